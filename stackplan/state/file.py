"""The state file format: JSON text <-> `State`, with one upgrade step per old version.

Text in, text out: no file system here (`local.py` does that). Reading validates against
`schemas/state.schema.json`; every refusal names the source and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator

from stackplan import __version__
from stackplan.addr import Address
from stackplan.errors import StackplanError, StateError
from stackplan.schema_check import compiled_check
from stackplan.schemas import load_schema
from stackplan.state.model import FORMAT_VERSION, ResourceRecord, State

if TYPE_CHECKING:
    from stackplan.state.store import StateDelta

# UPGRADES[n] turns a parsed version-n document into a version-(n + 1) document; reading
# applies them in a row up to FORMAT_VERSION. Version 1 is the first: none yet.
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]
UPGRADES: dict[int, Upgrade] = {}

_OPTIONAL_RECORD_FIELDS = ("created_at", "updated_at", "fault")


STACKPLAN_VERSION = __version__


def parse_state(text: str, source: str, journal: Sequence[str] = ()) -> State:
    """The state in `text`, read from `source` (a path, for messages), upgraded if old,
    with the `journal` entries (`journal_entry` texts) that continue it replayed.

    Raises StateError for text that is not JSON, not a state, from a newer stackplan, or
    that breaks the schema; the message names `source`.
    """
    return parse_journaled(text, source, journal)[0]


def parse_journaled(text: str, source: str, journal: Sequence[str]) -> tuple[State, int]:
    """`parse_state`, and the serial of the snapshot in `text` (the state's own serial
    when the journal does not continue that snapshot, or is empty)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"not valid JSON ({exc.msg}); the file may be truncated or edited by hand",
            where=f"{source}:{exc.lineno}:{exc.colno}",
            hint=_RESTORE_HINT,
        ) from exc
    if not isinstance(doc, dict):
        raise StateError(
            f"a state file holds a JSON object, not {_json_type(doc)}",
            where=source,
            hint=_RESTORE_HINT,
        )
    doc = upgrade(doc, source)
    snapshot_serial = doc.get("serial")
    if journal:
        doc = _replay(doc, journal, source)
    _validate(doc, source)
    state = _to_state(doc, source)
    return state, snapshot_serial if isinstance(snapshot_serial, int) else state.serial


def journal_entry(delta: StateDelta, base: int) -> str:
    """`delta` as one line of a journal continuing the snapshot of serial `base`."""
    doc = {
        "lineage": delta.lineage,
        "base": base,
        "serial": delta.serial,
        "put": [_record_doc(r) for r in delta.put],
        "drop": [str(a) for a in delta.drop],
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def _replay(doc: dict[str, Any], journal: Sequence[str], source: str) -> dict[str, Any]:
    """`doc` with the journal's entries applied in order. A journal that continues another
    snapshot (an older one, replaced before the journal was dropped) is left out."""
    where = f"{source} journal"
    resources: dict[str, Any] | None = None
    for n, text in enumerate(journal, 1):
        try:
            entry = json.loads(text)
            lineage, base, serial = entry["lineage"], entry["base"], entry["serial"]
            put, drop = list(entry["put"]), list(entry["drop"])
        except (ValueError, TypeError, KeyError) as exc:
            raise StateError(
                f"entry {n} is not a journal entry ({exc})", where=where, hint=_RESTORE_HINT
            ) from exc
        if n == 1 and (lineage != doc.get("lineage") or base != doc.get("serial")):
            return doc
        if serial != doc["serial"] + 1:
            raise StateError(
                f"entry {n} has serial {serial}, but the state before it is at serial "
                f"{doc['serial']}",
                where=where,
                hint=_RESTORE_HINT,
            )
        if resources is None:
            resources = {str(r.get("address")): r for r in doc.get("resources") or ()}
        for record in put:
            resources[str(record.get("address"))] = record
        for address in drop:
            resources.pop(address, None)
        doc = {**doc, "serial": serial}
    if resources is not None:
        doc["resources"] = list(resources.values())
    return doc


def upgrade(doc: dict[str, Any], source: str) -> dict[str, Any]:
    """`doc` brought up to FORMAT_VERSION through UPGRADES; a newer version is refused."""
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise StateError(
            f"format_version is missing or not an integer (found {version!r})",
            where=source,
            hint=_RESTORE_HINT,
        )
    if version > FORMAT_VERSION:
        writer = doc.get("stackplan_version")
        by = f"stackplan {writer}" if isinstance(writer, str) else "a newer stackplan"
        raise StateError(
            f"format_version {version} was written by {by}; this stackplan "
            f"({STACKPLAN_VERSION}) reads format_version {FORMAT_VERSION} and older",
            where=source,
            hint="upgrade stackplan to use this state",
        )
    while version < FORMAT_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise StateError(
                f"format_version {version} is too old for this stackplan to upgrade",
                where=source,
            )
        doc = step(doc)
        version += 1
        doc["format_version"] = version
    return doc


def dump_state(state: State, stackplan_version: str | None = None) -> str:
    """`state` as the text of a state file: stable key order, indent 2, trailing newline.

    Keys of attributes and outputs are sorted, so that equal states give equal files and
    changes diff line by line.
    """
    # The text is what `json.dumps(doc, indent=2)` gives for the whole document, put
    # together from parts so that each record's text is encoded once (see _record_text).
    head = {
        "format_version": state.format_version,
        "lineage": state.lineage,
        "serial": state.serial,
        "stack": state.stack,
        "stackplan_version": stackplan_version or STACKPLAN_VERSION,
    }
    parts = [f"  {_dumps(key)}: {_dumps(value)}" for key, value in head.items()]
    records = [_record_text(r).replace("\n", "\n    ") for r in state.records]
    if len(_record_texts) > 2 * len(records) + 1000:
        current = {id(r) for r in state.records}
        for key in [k for k in _record_texts if k not in current]:
            _record_texts.pop(key, None)
    parts.append('  "resources": ' + ("[\n    " + ",\n    ".join(records) + "\n  ]" if records
                                      else "[]"))  # fmt: skip
    parts.append('  "outputs": ' + _dumps(_plain(state.outputs)).replace("\n", "\n  "))
    if state.sensitive_outputs:
        parts.append('  "sensitive_outputs": ' + _dumps(list(state.sensitive_outputs)))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _dumps(value: Any) -> str:
    # JSON escapes every control character in strings, so the text's only newlines are
    # the indentation's own: indenting a part is replacing "\n".
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


# Each record's text, by identity. An apply writes the state after every step, with all
# records but one or two unchanged, and json's indenting encoder is pure Python: encoding
# every record each time made a write cost O(records). A record is immutable, so its text
# never changes. The cache is pruned to the last state's records when it grows past twice
# their number; holding each record keeps its id from being reused while it is cached.
_record_texts: dict[int, tuple[ResourceRecord, str]] = {}


def _record_text(record: ResourceRecord) -> str:
    cached = _record_texts.get(id(record))
    if cached is not None and cached[0] is record:
        return cached[1]
    text = _dumps(_record_doc(record))
    if len(_record_texts) > 100_000:
        _record_texts.clear()  # bound the memory of a long-lived process
    _record_texts[id(record)] = (record, text)
    return text


_RESTORE_HINT = "the file is left as it is; repair it, or restore the .backup beside it"


def _record_doc(record: ResourceRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "address": str(record.address),
        "kind": record.kind,
        "id": record.id,
        "status": record.status,
        "attributes": _plain(record.attributes),
        "dependencies": [str(d) for d in record.dependencies],
    }
    for name in _OPTIONAL_RECORD_FIELDS:
        value = getattr(record, name)
        if value is not None:
            doc[name] = value
    if record.sensitive:
        doc["sensitive"] = list(record.sensitive)
    if record.pending is not None:
        doc["pending"] = _plain(record.pending)
    return doc


def _plain(value: Any) -> Any:
    """Plain JSON with sorted keys, from read-only maps and tuples."""
    if isinstance(value, Mapping):
        return {str(k): _plain(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema("state"))


# Records from which a state is checked by the compiled schema first (compiling costs
# ~0.1 s; jsonschema takes ~1 s for the state of 10,000 servers).
BIG_STATE = 300


@cache
def _fast_check() -> Callable[[Any], bool]:
    return compiled_check(load_schema("state"))


def _validate(doc: dict[str, Any], source: str) -> None:
    resources = doc.get("resources")
    if isinstance(resources, list) and len(resources) >= BIG_STATE and _fast_check()(doc):
        return
    errors = sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{_json_path(e.absolute_path)}: {e.message}" for e in errors]
        count = len(lines)
        raise StateError(
            f"not a valid state file ({count} problem{'s' if count != 1 else ''}):\n  "
            + "\n  ".join(lines),
            where=source,
            hint=_RESTORE_HINT,
        )


def _json_path(path: Any) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _to_state(doc: dict[str, Any], source: str) -> State:
    records: dict[Address, ResourceRecord] = {}
    for i, item in enumerate(doc["resources"]):
        where = f"{source}: resources[{i}]"
        address = _address(item["address"], where)
        if address.kind != item["kind"]:
            raise StateError(f"kind {item['kind']!r} does not match address {address}", where=where)
        if address in records:
            raise StateError(f"{address} appears twice", where=where, hint=_RESTORE_HINT)
        deps = tuple(_address(d, f"{where}.dependencies") for d in item["dependencies"])
        try:
            records[address] = ResourceRecord(
                address=address,
                id=item["id"],
                attributes=item["attributes"],
                dependencies=deps,
                status=item["status"],
                created_at=item.get("created_at"),
                updated_at=item.get("updated_at"),
                fault=item.get("fault"),
                sensitive=tuple(item.get("sensitive", ())),
                pending=item.get("pending"),
            )
        except StateError as exc:
            raise StateError(exc.message, where=where, hint=exc.hint) from exc
    return State(
        format_version=doc["format_version"],
        lineage=doc["lineage"],
        serial=doc["serial"],
        stack=doc["stack"],
        resources=records,
        outputs=doc["outputs"],
        sensitive_outputs=tuple(doc.get("sensitive_outputs", ())),
    )


def _address(text: str, where: str) -> Address:
    try:
        return Address.parse(text)
    except StackplanError as exc:
        raise StateError(exc.message, where=where, hint=exc.hint) from exc


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
