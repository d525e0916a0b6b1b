"""`dump_state` puts the text together from parts (each record encoded once): it must give
exactly what one `json.dumps(doc, indent=2)` of the whole document gives."""

from __future__ import annotations

import json
from typing import Any

from stackplan.addr import Address
from stackplan.state import ResourceRecord, State, dump_state
from stackplan.state.file import _plain, _record_doc

AWKWARD = ["", "a\nb", 'é ☃ \u2028 \t"\\', "\x00\x1f", "  indented\n  twice"]


def _reference(state: State) -> str:
    doc = {
        "format_version": state.format_version,
        "lineage": state.lineage,
        "serial": state.serial,
        "stack": state.stack,
        "stackplan_version": "1.0",
        "resources": [_record_doc(r) for r in state.records],
        "outputs": _plain(state.outputs),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _record(i: int, attributes: dict[str, Any]) -> ResourceRecord:
    return ResourceRecord(
        address=Address.parse(f"server.web[{i}]"),
        id=f"id-{i}",
        attributes=attributes,
        dependencies=(Address.parse("keypair.deploy"),) if i % 2 else (),
        status="ok",
        created_at="2026-01-01T00:00:00Z" if i % 3 else None,
    )


def _state(records: list[ResourceRecord], outputs: dict[str, Any]) -> State:
    state = State.new("é\nstack")
    for record in records:
        state = state.with_record(record)
    return state.with_outputs(outputs)


def test_dump_equals_one_json_dumps_of_the_document() -> None:
    empty = State.new("web")
    assert dump_state(empty, "1.0") == _reference(empty)
    nested = {
        "metadata": {s + "k": s for s in AWKWARD},
        "list": [[], {}, [1, [2, {"x": None}]], 1.5, -0.0, True],
        "empty": {},
    }
    records = [_record(i, {"name": AWKWARD[i % len(AWKWARD)], **nested}) for i in range(7)]
    for outputs in ({}, {"ids": ["a", "b"], "nested": nested, "text": "a\nb"}):
        state = _state(records, outputs)
        assert dump_state(state, "1.0") == _reference(state)
        again = state.next_serial()  # the records' texts now come from the cache
        assert dump_state(again, "1.0") == _reference(again)


def test_a_changed_record_is_encoded_again() -> None:
    first = _state([_record(0, {"name": "a"}), _record(1, {"name": "b"})], {})
    dump_state(first, "1.0")
    second = first.with_record(_record(1, {"name": "changed"})).next_serial()
    text = dump_state(second, "1.0")
    assert text == _reference(second)
    assert '"name": "changed"' in text and '"name": "b"' not in text
