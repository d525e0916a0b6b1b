"""Plan file round trip, tampering and staleness; quota; the Markdown cut; references."""

from __future__ import annotations

import json
import os
import stat

import pytest
from test_plan_diff import LINEAGE, WEB, cloud, desired, plan_for, record, seen, server, state

from stackplan.addr import Address
from stackplan.errors import PlanError, StalePlanError
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Limit
from stackplan.kinds.registry import KINDS
from stackplan.plan.diff import DiffOptions, diff
from stackplan.plan.model import Action, Change, Plan, Reason
from stackplan.plan.planfile import check_fresh, load_plan, save_plan
from stackplan.plan.quota import check_quota, resource_delta
from stackplan.plan.refs import UNKNOWN, interpolate
from stackplan.plan.render import render_json, render_markdown, render_text


def test_plan_file_round_trips(tmp_path):
    plan = plan_for(server(image="img-2"), created_at="2024-05-01T12:00:00Z")
    path = tmp_path / "web.plan"
    save_plan(plan, path)
    assert load_plan(path) == plan
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_plan_file_keeps_user_data_for_apply(tmp_path):
    plan = diff(desired((WEB, server())), None, cloud())
    save_plan(plan, tmp_path / "p")
    assert load_plan(tmp_path / "p").changes[0].after["user_data"] == "#cloud-config\n"


def test_tampered_plan_file_is_refused(tmp_path):
    path = tmp_path / "web.plan"
    save_plan(plan_for(server(name="x")), path)
    doc = json.loads(path.read_text())
    doc["plan"]["changes"][0]["after"]["name"] = "evil"
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanError, match="changed after it was saved"):
        load_plan(path)


def test_garbage_plan_file_is_refused(tmp_path):
    (tmp_path / "p").write_text("{not json")
    with pytest.raises(PlanError, match="not a plan file"):
        load_plan(tmp_path / "p")


def test_fresh_plan_passes():
    plan = plan_for(server(name="x"))
    check_fresh(plan, state(record(WEB, server())), plan.spec_digest)


def test_state_serial_moved_on_makes_plan_stale():
    plan = plan_for(server(name="x"))
    with pytest.raises(StalePlanError, match="serial 3 → 6"):
        check_fresh(plan, state(record(WEB, server()), serial=6), plan.spec_digest)


def test_other_lineage_makes_plan_stale():
    plan = plan_for(server(name="x"))
    other = state(record(WEB, server()))
    from dataclasses import replace

    with pytest.raises(StalePlanError, match="lineage"):
        check_fresh(
            plan, replace(other, lineage="ffffffff-0000-4000-8000-000000000000"), plan.spec_digest
        )


def test_changed_spec_makes_plan_stale():
    plan = plan_for(server(name="x"))
    with pytest.raises(StalePlanError, match="the spec changed"):
        check_fresh(plan, state(record(WEB, server())), "sha256:other")


def test_plan_from_no_state_is_stale_once_a_state_exists():
    plan = diff(desired((WEB, server())), None, cloud(), DiffOptions(lineage=LINEAGE))
    check_fresh(plan, None, plan.spec_digest)
    with pytest.raises(StalePlanError, match="serial 0 → 3"):
        check_fresh(plan, state(record(WEB, server())), plan.spec_digest)


def test_delta_counts_creates_deletes_and_resizes():
    plan = plan_for(server(flavor="2"))
    delta = resource_delta(plan, KINDS)
    assert tuple(delta.added(m) for m in ("vcpus", "ram_mb", "disk_gb")) == (1, 2048, 20)
    assert tuple(delta.removed(m) for m in ("vcpus", "ram_mb", "disk_gb")) == (1, 512, 1)


def test_quota_problem_names_what_is_short():
    servers = [(Address("server", "w", i), server(name=f"w{i}")) for i in range(12)]
    plan = diff(desired(*servers), None, cloud())
    check = check_quota(plan, {"instances": Limit(10, 7), "vcpus": Limit(-1, 50)}, KINDS)
    assert check.problems == ("instances: the plan needs 12 more, the project has 3 of 10 left",)


def test_quota_unlimited_and_freed_capacity_pass():
    plan = plan_for(server(image="img-2"))  # delete-then-create: no net need
    limits = {"instances": Limit(1, 1), "vcpus": Limit(1, 1)}
    assert check_quota(plan, limits, KINDS).problems == ()


def _big_plan(n: int) -> Plan:
    changes = tuple(
        Change(
            Address("server", "web", i),
            Action.DELETE if i % 3 == 0 else Action.CREATE,
            Reason.NOT_IN_SPEC if i % 3 == 0 else Reason.NONE,
            f"id-{i}" if i % 3 == 0 else None,
            frozen_map(server(name=f"web-{i}")) if i % 3 == 0 else None,
            None if i % 3 == 0 else frozen_map(server(name=f"web-{i}")),
        )
        for i in range(n)
    )
    return Plan("web", LINEAGE, 1, "sha256:d", changes)


def test_markdown_is_cut_below_the_comment_limit():
    text = render_markdown(_big_plan(2000))
    assert len(text) < 65_000
    assert "more resources not shown (" in text and "run `stackplan plan` for the full plan" in text
    # What was left out is named, by resource and action.
    assert "create server.web (" in text.split("more resources not shown (")[1]
    assert text.index("**delete**") < text.index("| + create |")


def test_markdown_small_plan_is_whole_with_details():
    text = render_markdown(_big_plan(3))
    assert "not shown" not in text and text.count("<details>") == 3


def test_text_colour_only_when_asked():
    plan = plan_for(server(name="x"))
    assert "\x1b[" not in render_text(plan, color=False)
    assert "\x1b[" in render_text(plan, color=True)


def test_renders_never_show_user_data_text():
    plan = diff(desired((WEB, server(user_data="SECRET-ish text"))), None, cloud())
    for text in (render_text(plan), render_markdown(plan), render_json(plan)):
        assert "SECRET-ish" not in text


def test_interpolate_fills_known_and_reports_unknown():
    values = {"db": "id-db"}

    def lookup(ref):
        return values.get(ref.name, UNKNOWN)

    attrs, unknown = interpolate(
        {"metadata": {"db": "${server.db.id}", "x": "at ${server.cache.id}"}, "name": "web"}, lookup
    )
    assert attrs == {"metadata": {"db": "id-db", "x": "at ${server.cache.id}"}, "name": "web"}
    assert unknown == ("metadata.x",)


def test_observed_drift_is_shown_in_every_render():
    plan = plan_for(server(), obs=cloud(seen(server(name="by-hand"))))
    assert "changed outside stackplan: name" in render_text(plan)
    assert "changed outside stackplan: name" in render_markdown(plan)
    assert json.loads(render_json(plan))["resource_changes"][0]["drift"] == ["name"]
