import uuid

import pytest

from stackplan.addr import Address
from stackplan.errors import StateError
from stackplan.state import CREATE_TOKEN, ResourceRecord, State

WEB0 = Address("server", "web", 0)
WEB1 = Address("server", "web", 1)
DB = Address("server", "db")
KEY = Address("keypair", "deploy")


def rec(address: Address, id: str | None = "x", **kw) -> ResourceRecord:
    return ResourceRecord(address, id, **kw)


def test_new_state_has_a_fresh_uuid4_lineage_and_serial_zero():
    a, b = State.new("web"), State.new("web")
    assert a.serial == 0 and a.format_version == 1 and a.stack == "web"
    assert uuid.UUID(a.lineage).version == 4 and a.lineage != b.lineage
    assert a.records == () and dict(a.outputs) == {}


def test_helpers_return_new_values_and_keep_the_serial():
    empty = State.new("web")
    one = empty.with_record(rec(WEB0))
    assert empty.record(WEB0) is None and one.record(WEB0) == rec(WEB0)
    assert one.serial == empty.serial
    assert one.next_serial().serial == 1 and one.serial == 0
    assert one.without(WEB0) == empty


def test_records_are_sorted_by_address_with_numeric_indexes():
    state = State.new("web")
    for address in (Address("server", "web", 10), WEB1, KEY, DB, WEB0):
        state = state.with_record(rec(address))
    assert [str(r.address) for r in state.records] == [
        "keypair.deploy",
        "server.db",
        "server.web[0]",
        "server.web[1]",
        "server.web[10]",
    ]


def test_state_and_records_are_frozen_and_own_their_attributes():
    attrs = {"metadata": {"role": "web"}}
    record = rec(WEB0, attributes=attrs)
    attrs["metadata"]["role"] = "changed"
    assert record.attributes["metadata"] == {"role": "web"}
    with pytest.raises(TypeError):
        record.attributes["name"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        record.id = "y"  # type: ignore[misc]
    state = State.new("web").with_record(record)
    with pytest.raises(TypeError):
        state.resources[WEB1] = record  # type: ignore[index]


def test_with_record_replaces_the_record_at_its_address():
    state = State.new("web").with_record(rec(WEB0, "old")).with_record(rec(WEB0, "new"))
    assert [r.id for r in state.records] == ["new"]


def test_without_a_missing_address_is_an_error():
    with pytest.raises(StateError, match=r"no resource server\.db"):
        State.new("web").without(DB)


def test_moved_renames_the_record_and_dependencies_on_it():
    state = State.new("web").with_record(rec(DB, "db-id"))
    state = state.with_record(rec(WEB0, dependencies=(DB, KEY)))
    moved = state.moved(DB, Address("server", "database"))
    assert moved.record(DB) is None
    assert moved.record(Address("server", "database")).id == "db-id"
    assert moved.record(WEB0).dependencies == (KEY, Address("server", "database"))


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        (WEB1, DB, "no resource"),
        (WEB0, DB, "already in the state"),
        (WEB0, Address("keypair", "web"), "cannot move a server to a keypair"),
    ],
)
def test_moved_refuses(src, dst, message):
    state = State.new("web").with_record(rec(WEB0)).with_record(rec(DB))
    with pytest.raises(StateError, match=message):
        state.moved(src, dst)


def test_statuses_are_checked():
    with pytest.raises(StateError, match="unknown resource status 'gone'"):
        rec(WEB0, status="gone")
    with pytest.raises(StateError, match="needs an id"):
        rec(WEB0, None)


def test_pending_create_may_have_no_id_and_carries_the_create_token():
    pending = rec(WEB0, None, status="pending_create", attributes={CREATE_TOKEN: "sp-1"})
    assert pending.id is None and pending.attributes[CREATE_TOKEN] == "sp-1"
    assert pending.with_status("tainted").status == "tainted"


def test_dependencies_are_sorted_and_deduplicated():
    assert rec(WEB0, dependencies=(KEY, DB, KEY)).dependencies == (KEY, DB)


def test_a_record_filed_under_another_address_is_refused():
    with pytest.raises(StateError, match="filed under"):
        State(1, str(uuid.uuid4()), 0, "web", {WEB1: rec(WEB0)})


def test_outputs_are_read_only():
    state = State.new("web").with_outputs({"ids": ["a"]})
    assert state.outputs == {"ids": ["a"]}
    with pytest.raises(TypeError):
        state.outputs["x"] = 1  # type: ignore[index]
