"""The diff's rules, one behaviour per test."""

from __future__ import annotations

import hashlib

import pytest

from stackplan.addr import Address
from stackplan.errors import PlanError
from stackplan.frozen import frozen_map
from stackplan.kinds.base import GONE, Marker, Observed, ObservedResource
from stackplan.plan.diff import DiffOptions, diff
from stackplan.plan.model import Action, Reason
from stackplan.spec.model import Desired, DesiredResource, Lifecycle
from stackplan.state.model import FORMAT_VERSION, ResourceRecord, State

LINEAGE = "0b5e3c1a-7f2d-4c8e-9a61-3d2f4b5c6e7f"
WEB = Address("server", "web")
DB = Address("server", "db")
FLAVORS = {"1": ("m1.tiny", 1, 512, 1), "2": ("m1.small", 1, 2048, 20)}


def server(name="web", image="img-1", flavor="1", **extra):
    f = FLAVORS[flavor]
    attrs = {
        "name": name,
        "image_id": image,
        "image_name": f"name-of-{image}",
        "flavor_id": flavor,
        "flavor_name": f[0],
        "flavor_vcpus": f[1],
        "flavor_ram": f[2],
        "flavor_disk": f[3],
        "key_name": "deploy",
        "security_groups": ["default"],
        "metadata": {},
        "user_data": "#cloud-config\n",
        "availability_zone": None,
        "image_update": "replace",
    }
    attrs.update(extra)
    return attrs


def recorded(attrs):
    out = {k: v for k, v in attrs.items() if k != "user_data"}
    ud = attrs.get("user_data")
    out["user_data_sha256"] = hashlib.sha256(ud.encode()).hexdigest() if ud else None
    return out


def desired(*resources):
    items = []
    for r in resources:
        if isinstance(r, tuple):
            address, attrs, *rest = r
            lifecycle = rest[0] if rest else Lifecycle()
            items.append(DesiredResource(address, frozen_map(attrs), lifecycle=lifecycle))
        else:
            items.append(r)
    return Desired("web", None, "sha256:d", tuple(items))


def state(*records, serial=3):
    return State(FORMAT_VERSION, LINEAGE, serial, "web", {r.address: r for r in records})


def record(address, attrs, rid="id-1", status="ok", deps=()):
    return ResourceRecord(address, rid, recorded(attrs), tuple(deps), status)


def cloud(*found, refreshed=True):
    return Observed(frozen_map({r.id: r for r in found}), refreshed)


def seen(attrs, rid="id-1", status="ACTIVE", marker=None, failed=False):
    shown = {
        k: attrs[k]
        for k in ("name", "image_id", "flavor_id", "key_name", "security_groups", "metadata")
    }
    return ObservedResource(
        "server",
        rid,
        frozen_map({**shown, "availability_zone": "nova"}),
        status,
        None,
        marker,
        failed,
    )


def one(plan):
    (change,) = plan.changes
    return change


def plan_for(new_attrs, old_attrs=None, *, lifecycle=Lifecycle(), status="ok", obs=None, **options):
    old_attrs = old_attrs or server()
    prior = state(record(WEB, old_attrs, status=status))
    observed = cloud(seen(old_attrs)) if obs is None else obs
    return diff(desired((WEB, new_attrs, lifecycle)), prior, observed, DiffOptions(**options))


def test_no_state_creates_everything():
    plan = diff(desired((WEB, server())), None, cloud(), DiffOptions(lineage=LINEAGE))
    change = one(plan)
    assert change.action is Action.CREATE and change.reason is Reason.NONE
    assert plan.lineage == LINEAGE and plan.serial == 0


def test_create_carries_user_data_text_for_apply():
    change = one(diff(desired((WEB, server())), None, cloud()))
    assert change.after["user_data"] == "#cloud-config\n"
    assert change.after["user_data_sha256"] == recorded(server())["user_data_sha256"]


def test_unchanged_server_is_no_op():
    change = one(plan_for(server()))
    assert change.action is Action.NO_OP and change.changed_paths == ()


def test_rename_updates_in_place():
    change = one(plan_for(server(name="web-new")))
    assert change.action is Action.UPDATE and change.changed_paths == ("name",)
    assert "user_data" not in change.after


def test_zone_the_cloud_chose_recorded_by_refresh_is_no_change():
    # `stackplan refresh` and `import` record the zone the cloud picked; a spec without
    # one must not replace the server to get "no zone" back.
    prior = state(record(WEB, server(availability_zone="nova")))
    change = one(diff(desired((WEB, server())), prior, cloud(seen(server()))))
    assert change.action is Action.NO_OP and change.drift == ()


def test_security_group_order_is_no_change():
    old = server(security_groups=["a", "b"])
    obs = cloud(seen(server(security_groups=["b", "a"])))
    assert one(plan_for(old, old, obs=obs)).action is Action.NO_OP


def test_flavor_change_resizes():
    change = one(plan_for(server(flavor="2")))
    assert change.action is Action.RESIZE and change.replace_paths == ("flavor_id",)


def test_image_change_forces_replace():
    change = one(plan_for(server(image="img-2")))
    assert change.action is Action.DELETE_THEN_CREATE
    assert change.replace_paths == ("image_id",) and change.id == "id-1"
    assert change.after["user_data"] == "#cloud-config\n"


def test_image_change_with_rebuild_opt_in_rebuilds():
    change = one(plan_for(server(image="img-2", image_update="rebuild")))
    assert change.action is Action.REBUILD and change.replace_paths == ("image_id",)


def test_key_change_replaces_even_with_rebuild_opt_in():
    change = one(plan_for(server(image="img-2", key_name="ops", image_update="rebuild")))
    assert change.action is Action.DELETE_THEN_CREATE and change.replace_paths == ("key_name",)


def test_user_data_change_replaces():
    change = one(plan_for(server(user_data="#cloud-config\nnew: 1\n")))
    assert change.action.is_replace and change.replace_paths == ("user_data_sha256",)


def test_create_before_destroy_creates_first():
    change = one(plan_for(server(key_name="ops"), lifecycle=Lifecycle(create_before_destroy=True)))
    assert change.action is Action.CREATE_THEN_DELETE


def test_image_renamed_with_same_id_is_no_change():
    assert one(plan_for(server(image_name="renamed"))).action is Action.NO_OP


def test_cloud_chosen_availability_zone_is_no_change():
    assert one(plan_for(server())).drift == ()


def test_not_in_spec_is_deleted():
    prior = state(record(WEB, server()), record(DB, server(name="db"), rid="id-db", deps=[WEB]))
    plan = diff(
        desired((WEB, server())), prior, cloud(seen(server()), seen(server(name="db"), rid="id-db"))
    )
    delete = plan.changes[0]
    assert delete.address == DB and delete.action is Action.DELETE
    assert delete.reason is Reason.NOT_IN_SPEC and delete.id == "id-db"
    assert delete.depends_on == (WEB,) and delete.before is not None


def test_not_in_spec_and_already_gone_is_forgotten():
    prior = state(record(WEB, server()), record(DB, server(name="db"), rid="id-db"))
    plan = diff(desired((WEB, server())), prior, cloud(seen(server())))
    delete = plan.changes[0]
    assert delete.action is Action.DELETE and delete.before is None


def test_destroy_deletes_every_record_and_creates_nothing():
    prior = state(record(WEB, server()))
    plan = diff(
        desired((WEB, server()), (DB, server(name="db"))),
        prior,
        cloud(seen(server())),
        DiffOptions(destroy=True),
    )
    change = one(plan)
    assert change.action is Action.DELETE and change.reason is Reason.DESTROY
    assert plan.destroy and dict(plan.outputs) == {}


def test_gone_from_cloud_is_created_again():
    change = one(plan_for(server(), obs=cloud()))
    assert change.action is Action.CREATE and change.reason is Reason.GONE_FROM_CLOUD


def test_deleted_status_counts_as_gone():
    change = one(plan_for(server(), obs=cloud(seen(server(), status=GONE))))
    assert change.reason is Reason.GONE_FROM_CLOUD


def test_without_refresh_the_state_is_trusted():
    change = one(plan_for(server(), obs=cloud(refreshed=False)))
    assert change.action is Action.NO_OP


def test_renamed_outside_is_drift_updated_back():
    change = one(plan_for(server(), obs=cloud(seen(server(name="by-hand")))))
    assert change.action is Action.UPDATE and change.drift == ("name",)
    assert change.before["name"] == "by-hand"


def test_drift_matching_the_spec_is_a_no_op_that_shows_drift():
    change = one(plan_for(server(name="new"), server(), obs=cloud(seen(server(name="new")))))
    assert change.action is Action.NO_OP and change.drift == ("name",)


def test_tainted_record_is_replaced():
    change = one(plan_for(server(), status="tainted"))
    assert change.action is Action.DELETE_THEN_CREATE and change.reason is Reason.TAINTED


def test_server_in_error_is_replaced():
    change = one(plan_for(server(), obs=cloud(seen(server(), status="ERROR", failed=True))))
    assert change.action.is_replace and change.reason is Reason.TAINTED


def test_replace_flag_replaces():
    change = one(plan_for(server(), replace=(WEB,)))
    assert change.action.is_replace and change.reason is Reason.REPLACE_REQUESTED


def test_interrupted_create_is_adopted_by_marker():
    pending = ResourceRecord(
        WEB, None, {**recorded(server()), "create_token": "t1"}, status="pending_create"
    )
    marker = Marker(LINEAGE, "server.web", "t1")
    plan = diff(
        desired((WEB, server())), state(pending), cloud(seen(server(), rid="new-id", marker=marker))
    )
    change = one(plan)
    assert change.reason is Reason.ADOPTED and change.id == "new-id"
    assert change.action is Action.UPDATE and change.changed_paths == ()


def test_adopted_resource_that_differs_is_changed():
    marker = Marker(LINEAGE, "server.web", "t1")
    prior = state()
    plan = diff(
        desired((WEB, server(name="other"))),
        prior,
        cloud(seen(server(), rid="new-id", marker=marker)),
    )
    change = one(plan)
    assert change.reason is Reason.ADOPTED and change.action is Action.UPDATE
    assert change.changed_paths == ("name",)


def test_pending_create_that_never_landed_is_created():
    pending = ResourceRecord(WEB, None, recorded(server()), status="pending_create")
    change = one(diff(desired((WEB, server())), state(pending), cloud()))
    assert change.action is Action.CREATE and change.reason is Reason.NONE


def test_prevent_destroy_blocks_a_replace_naming_the_attribute():
    with pytest.raises(PlanError) as caught:
        plan_for(server(image="img-2"), lifecycle=Lifecycle(prevent_destroy=True))
    assert "server.web" in str(caught.value) and "image_id" in str(caught.value)
    assert caught.value.hint


def test_prevent_destroy_blocks_destroy():
    with pytest.raises(PlanError):
        plan_for(server(), lifecycle=Lifecycle(prevent_destroy=True), destroy=True)


def test_prevent_destroy_allows_an_update():
    plan = plan_for(server(name="x"), lifecycle=Lifecycle(prevent_destroy=True))
    assert one(plan).action is Action.UPDATE


def test_ignore_changes_leaves_the_attribute_alone():
    change = one(plan_for(server(name="new"), lifecycle=Lifecycle(ignore_changes=("name",))))
    assert change.action is Action.NO_OP and change.after["name"] == "web"


def test_targeting_keeps_targets_and_their_dependencies():
    web0, web1 = Address("server", "web", 0), Address("server", "web", 1)
    resources = [
        DesiredResource(DB, frozen_map(server(name="db"))),
        DesiredResource(web0, frozen_map(server(name="w0")), depends_on=(DB,)),
        DesiredResource(web1, frozen_map(server(name="w1"))),
        DesiredResource(Address("server", "other"), frozen_map(server(name="o"))),
    ]
    plan = diff(desired(*resources), None, cloud(), DiffOptions(targets=(WEB,)))
    assert {str(c.address) for c in plan.changes} == {"server.db", "server.web[0]", "server.web[1]"}
    assert any("targeting is in effect" in w for w in plan.warnings)


def test_unknown_reference_is_known_after_apply_and_counts_as_changed():
    attrs = server(metadata={"db": "${server.db.id}"})
    resources = [
        DesiredResource(DB, frozen_map(server(name="db"))),
        DesiredResource(WEB, frozen_map(attrs), depends_on=(DB,)),
    ]
    prior = state(record(WEB, server()))
    plan = diff(desired(*resources), prior, cloud(seen(server())))
    web = next(c for c in plan.changes if c.address == WEB)
    assert web.action is Action.UPDATE and web.changed_paths == ("metadata",)
    assert web.after["metadata"] == {"db": "${server.db.id}"}


def test_known_reference_is_filled_from_the_state():
    attrs = server(metadata={"db": "${server.db.id}"})
    resources = [
        DesiredResource(DB, frozen_map(server(name="db"))),
        DesiredResource(WEB, frozen_map(attrs), depends_on=(DB,)),
    ]
    prior = state(
        record(WEB, server(metadata={"db": "id-db"})), record(DB, server(name="db"), rid="id-db")
    )
    plan = diff(
        desired(*resources),
        prior,
        cloud(seen(server(metadata={"db": "id-db"})), seen(server(name="db"), rid="id-db")),
    )
    assert all(c.action is Action.NO_OP for c in plan.changes)


def test_changes_carry_their_dependencies_and_outputs():
    resources = [
        DesiredResource(WEB, frozen_map(server()), depends_on=(DB,)),
        DesiredResource(DB, frozen_map(server(name="db"))),
    ]
    d = Desired("web", None, "sha256:d", tuple(resources), frozen_map({"ids": "${server.web.id}"}))
    plan = diff(d, None, cloud(), DiffOptions(created_at="2024-01-01T00:00:00Z"))
    assert next(c for c in plan.changes if c.address == WEB).depends_on == (DB,)
    assert dict(plan.outputs) == {"ids": "${server.web.id}"}
    assert plan.created_at == "2024-01-01T00:00:00Z" and plan.spec_digest == "sha256:d"
