import json
from pathlib import Path

import pytest

from stackplan.addr import Address
from stackplan.errors import StateError
from stackplan.state import UPGRADES, ResourceRecord, State, dump_state, parse_state
from stackplan.state.file import BIG_STATE

DATA = Path(__file__).resolve().parents[2] / "data" / "state"
ROUNDTRIP = sorted(p.name.removesuffix(".in.json") for p in (DATA / "roundtrip").glob("*.in.json"))
BAD = sorted(p.stem for p in (DATA / "bad").glob("*.json"))


@pytest.mark.parametrize("case", ROUNDTRIP)
def test_roundtrip_golden(case):
    source = DATA / "roundtrip" / f"{case}.in.json"
    state = parse_state(source.read_text(encoding="utf-8"), str(source))
    out = dump_state(state, stackplan_version="0.0.0-test")
    assert out == (DATA / "roundtrip" / f"{case}.out.json").read_text(encoding="utf-8")
    assert parse_state(out, "again") == state  # the output is a fixed point


@pytest.mark.parametrize("case", BAD)
def test_bad_file_is_refused_naming_the_file(case):
    source = DATA / "bad" / f"{case}.json"
    expected = (DATA / "bad" / f"{case}.err").read_text(encoding="utf-8").strip()
    with pytest.raises(StateError) as refused:
        parse_state(source.read_text(encoding="utf-8"), str(source))
    message = str(refused.value)
    assert message.startswith(str(source)), message
    assert expected in message, message


def test_cases_exist():
    assert len(ROUNDTRIP) >= 3 and len(BAD) >= 10


def test_json_error_names_line_and_column():
    text = '{\n  "format_version": 1,\n  "lineage": oops\n}\n'
    with pytest.raises(StateError) as refused:
        parse_state(text, "state/web.json")
    assert refused.value.where == "state/web.json:3:14"
    assert "restore the .backup" in str(refused.value)


def test_schema_problems_are_all_listed():
    doc = json.loads(dump_state(State.new("web")))
    doc["serial"] = "one"
    doc["stack"] = ""
    doc["extra"] = 1
    with pytest.raises(StateError) as refused:
        parse_state(json.dumps(doc), "s.json")
    message = str(refused.value)
    assert "3 problems" in message
    assert "$.serial" in message and "$.stack" in message and "'extra'" in message


def test_a_big_state_is_read_and_its_problems_still_listed_where_they_are():
    # From BIG_STATE records the compiled schema checks first; what it refuses, jsonschema
    # explains as for a small state.
    state = State.new("web")
    for i in range(BIG_STATE + 5):
        state = state.with_record(ResourceRecord(Address("server", "web", i), f"id-{i}"))
    text = dump_state(state)
    assert parse_state(text, "s.json") == state
    doc = json.loads(text)
    doc["resources"][BIG_STATE]["id"] = 7
    with pytest.raises(StateError) as refused:
        parse_state(json.dumps(doc), "s.json")
    assert f"$.resources[{BIG_STATE}].id" in str(refused.value)


def test_dump_is_stable_and_diff_friendly():
    state = State.new("web").with_outputs({"b": 1, "a": {"z": 1, "y": 2}})
    text = dump_state(state)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == dump_state(parse_state(text, "x"))
    assert list(json.loads(text)) == [
        "format_version",
        "lineage",
        "serial",
        "stack",
        "stackplan_version",
        "resources",
        "outputs",
    ]
    assert text.index('"y"') < text.index('"z"') and text.index('"a"') < text.index('"b"')
    assert '\n  "serial": 0,\n' in text  # indent 2


def test_an_old_version_goes_through_its_upgrade(monkeypatch):
    def upgrade_v0(doc):
        # a fake version 0 that called resources "servers" and had no outputs
        doc = dict(doc)
        doc["resources"] = doc.pop("servers")
        doc["outputs"] = {}
        return doc

    monkeypatch.setitem(UPGRADES, 0, upgrade_v0)
    v0 = {
        "format_version": 0,
        "lineage": "0b9f6e7a-3c1d-4e2f-9a8b-7c6d5e4f3a2b",
        "serial": 4,
        "stack": "web",
        "servers": [],
    }
    state = parse_state(json.dumps(v0), "old.json")
    assert state.format_version == 1 and state.serial == 4 and state.outputs == {}


def test_an_old_version_without_upgrade_is_refused():
    with pytest.raises(StateError, match="format_version 0 is too old"):
        parse_state('{"format_version": 0}', "old.json")
