"""A create sent again while an earlier one is unresolved keeps what the earlier intent
knew: what came since may be what that create made (Kind.carried_intent)."""

from __future__ import annotations

from stackplan.kinds.registry import KINDS


def test_namesakes_are_only_those_the_earlier_intent_saw_too() -> None:
    earlier = {"create_token": "t-1", "name": "app", "namesakes": ["foreign"]}
    now = {"name": "app", "namesakes": ["foreign", "made-since"]}
    for kind in ("network", "port", "security_group", "server_group"):
        carried = KINDS[kind].carried_intent(earlier, now)
        assert carried == {"name": "app", "namesakes": ["foreign"]}, kind


def test_namesakes_stay_as_listed_when_either_intent_has_none() -> None:
    # A kind tagged at its create notes no namesakes: its lost create carries its tag.
    tagged_earlier = {"create_token": "t-1", "name": "app"}
    now = {"name": "app", "namesakes": ["made-since"]}
    assert KINDS["port"].carried_intent(tagged_earlier, now) == now
    assert KINDS["port"].carried_intent(now, {"name": "app"}) == {"name": "app"}


def test_a_keypair_absent_before_the_earlier_create_is_that_create_s() -> None:
    keypair = KINDS["keypair"]
    assert keypair.carried_intent({"existed": False}, {"name": "k", "existed": True}) == {
        "name": "k",
        "existed": False,
    }
    assert keypair.carried_intent({"existed": True}, {"name": "k", "existed": True}) == {
        "name": "k",
        "existed": True,
    }


def test_kinds_found_by_their_marker_take_the_new_intent() -> None:
    now = {"volume": "v"}
    assert KINDS["volume"].carried_intent({"create_token": "t-1"}, now) is now
