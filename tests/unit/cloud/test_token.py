"""Token renewal timing and the Secret type."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from stackplan.cloud.auth import Token, parse_time
from stackplan.cloud.catalog import Catalog
from stackplan.cloud.secret import Secret


def token(lifetime: float, received: float = 1000.0) -> Token:
    return Token(
        Secret("t"),
        datetime(2031, 1, 1, tzinfo=UTC),
        Catalog(),
        deadline=received + lifetime,
        lifetime=lifetime,
        version="3",
    )


def test_an_hour_token_is_renewed_120_seconds_before_expiry():
    t = token(3600)
    assert not t.needs_renewal(1000 + 3600 - 121)
    assert t.needs_renewal(1000 + 3600 - 119)


def test_a_two_second_token_lives_one_second_before_renewal():
    t = token(2)
    assert t.renew_margin() == 1
    assert not t.needs_renewal(1000.5)
    assert t.needs_renewal(1001.0)


def test_keystone_times_parse():
    assert parse_time("2031-05-04T13:00:00.000000Z") == datetime(2031, 5, 4, 13, tzinfo=UTC)
    assert parse_time("2031-05-04T13:00:00Z") == datetime(2031, 5, 4, 13, tzinfo=UTC)
    assert parse_time("2031-05-04T13:00:00") == datetime(2031, 5, 4, 13, tzinfo=UTC)


def test_secret_hides_its_value_everywhere():
    s = Secret("hunter2")
    assert str(s) == "***" and repr(s) == "Secret(***)" and f"{s}" == "***"
    assert "hunter2" not in f"{s!r} {[s]} {dict(a=s)}"
    assert s.reveal() == "hunter2"
    assert bool(Secret("")) is False
    with pytest.raises(TypeError):
        pickle.dumps(s)
