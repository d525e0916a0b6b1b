"""Request bodies checked as Cinder checks them: its JSON schemas (`api/schemas/`,
`api/validation/parameter_types.py`) run by a small Draft 4 validator that stops at
the first error and words it as jsonschema 4 does, wrapped as Cinder's `_SchemaValidator`
wraps it ("Invalid input for field/attribute <last path element>. Value: <instance>.
<message>"). Standard library only, like the rest of the simulator.

Supported keywords: type, enum, pattern, minimum/maximum (numbers in strings count, as
in Cinder's override), minLength, maxLength, properties, patternProperties,
additionalProperties, required, minProperties, maxProperties, items, maxItems, oneOf,
anyOf, format. The simulator's Nova checks its bodies with it too (its schemas and
messages are jsonschema's, wrapped the same way).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from stackplan.sim.cinder.common import invalid_input, is_uuid_like
from stackplan.sim.wire import ApiError

Schema = dict[str, Any]


class _Invalid(Exception):
    def __init__(self, message: str, path: list[Any], instance: Any):
        super().__init__(message)
        self.message = message
        self.path = path
        self.instance = instance


def _string_length(name: str) -> Callable[[Any], bool]:
    """Cinder's `*_non_mandatory_remove_white_spaces` formats: InvalidInput past 255."""

    def check(value: Any) -> bool:
        if isinstance(value, str) and len(value.strip()) > 255:
            raise invalid_input(f"{name} has {len(value.strip())} characters, more than 255.")
        return True

    return check


VOLUME_STATUSES = (
    "creating", "available", "deleting", "error", "error_deleting", "error_managing",
    "managing", "attaching", "in-use", "detaching", "maintenance", "restoring-backup",
    "error_restoring", "reserved", "awaiting-transfer", "backing-up", "error_backing-up",
    "error_extending", "downloading", "uploading", "retyping", "extending",
)  # fmt: skip
MIGRATION_STATUSES = ("migrating", "error", "success", "completing", "none", "starting")


def _one_of_values(label: str, valid: Any) -> Callable[[Any], bool]:
    """Cinder's status formats: InvalidParameterValue naming the valid values."""

    def check(value: Any) -> bool:
        if value and value.lower() not in valid:
            raise ApiError(400, f"{label}: {value} is invalid, valid statuses are: {valid}.")
        return True

    return check


def _reset_body(value: Any) -> bool:
    if not any(value.get(k) for k in ("status", "attach_status", "migration_status")):
        raise ApiError(
            400, "Must specify 'status', 'attach_status' or 'migration_status' for update."
        )
    return True


FORMATS: dict[str, Callable[[Any], bool]] = {
    "uuid": is_uuid_like,
    "name_non_mandatory_remove_white_spaces": _string_length("name"),
    "description_non_mandatory_remove_white_spaces": _string_length("description"),
    "volume_status": _one_of_values("Volume status", VOLUME_STATUSES),
    "volume_attach_status": _one_of_values("Volume attach status", ["attached", "detached"]),
    "volume_migration_status": _one_of_values("Volume migration status", MIGRATION_STATUSES),
    "validate_volume_reset_body": _reset_body,
}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":  # Draft 4: no booleans, no 1.0
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "string": lambda v: isinstance(v, str),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }[kind](value)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None


def _check(schema: Schema, value: Any, path: list[Any]) -> None:
    for keyword, arg in schema.items():
        check = _KEYWORDS.get(keyword)
        if check is not None:
            check(arg, value, path, schema)


def _type(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    kinds = [arg] if isinstance(arg, str) else list(arg)
    if not any(_is_type(value, k) for k in kinds):
        raise _Invalid(f"{value!r} is not of type {', '.join(map(repr, kinds))}", path, value)


def _enum(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if not any(value == e and type(value) is type(e) for e in arg):
        raise _Invalid(f"{value!r} is not one of {arg!r}", path, value)


def _pattern(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, str) and not re.search(arg, value):
        raise _Invalid(f"{value!r} does not match {arg!r}", path, value)


def _minimum(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    number = _number(value)
    if number is not None and number < arg:
        raise _Invalid(f"{number!r} is less than the minimum of {arg!r}", path, value)


def _maximum(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    number = _number(value)
    if number is not None and number > arg:
        raise _Invalid(f"{number!r} is greater than the maximum of {arg!r}", path, value)


def _min_length(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, str) and len(value) < arg:
        said = "should be non-empty" if arg == 1 else "is too short"
        raise _Invalid(f"{value!r} {said}", path, value)


def _max_length(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, str) and len(value) > arg:
        raise _Invalid(f"{value!r} is too long", path, value)


def _properties(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, dict):
        for name, sub in arg.items():
            if name in value and isinstance(sub, dict):
                _check(sub, value[name], [*path, name])


def _pattern_properties(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, dict):
        for pattern, sub in arg.items():
            for name, item in value.items():
                if re.search(pattern, name):
                    _check(sub, item, [*path, name])


def _additional(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if arg is not False or not isinstance(value, dict):
        return
    patterns = list(schema.get("patternProperties", {}))
    extra = [
        k
        for k in value
        if k not in schema.get("properties", {}) and not any(re.search(p, k) for p in patterns)
    ]
    if not extra:
        return
    if patterns:
        verb = "does" if len(extra) == 1 else "do"
        names = ", ".join(map(repr, sorted(extra)))
        regexes = ", ".join(map(repr, sorted(patterns)))
        raise _Invalid(f"{names} {verb} not match any of the regexes: {regexes}", path, value)
    verb = "was" if len(extra) == 1 else "were"
    names = ", ".join(map(repr, sorted(extra, key=str)))
    message = f"Additional properties are not allowed ({names} {verb} unexpected)"
    raise _Invalid(message, path, value)


def _required(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, dict):
        for name in arg:
            if name not in value:
                raise _Invalid(f"{name!r} is a required property", path, value)


def _min_properties(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, dict) and len(value) < arg:
        said = "should be non-empty" if arg == 1 else "does not have enough properties"
        raise _Invalid(f"{value!r} {said}", path, value)


def _max_properties(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, dict) and len(value) > arg:
        raise _Invalid(f"{value!r} has too many properties", path, value)


def _items(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, list) and isinstance(arg, dict):
        for index, item in enumerate(value):
            _check(arg, item, [*path, index])


def _max_items(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if isinstance(value, list) and len(value) > arg:
        raise _Invalid(f"{value!r} is too long", path, value)


def _passes(schema: Schema, value: Any) -> bool:
    try:
        _check(schema, value, [])
    except _Invalid:
        return False
    return True


def _one_of(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if sum(_passes(s, value) for s in arg) != 1:
        raise _Invalid(f"{value!r} is not valid under any of the given schemas", path, value)


def _any_of(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    if not any(_passes(s, value) for s in arg):
        raise _Invalid(f"{value!r} is not valid under any of the given schemas", path, value)


def _format(arg: Any, value: Any, path: list[Any], schema: Schema) -> None:
    # Cinder's FormatChecker runs its checkers on any value (they guard types themselves).
    check = FORMATS.get(arg)
    if check is not None and value is not None and not check(value):
        raise _Invalid(f"{value!r} is not a {arg!r}", path, value)


_KEYWORDS: dict[str, Callable[[Any, Any, list[Any], Schema], None]] = {
    "type": _type,
    "enum": _enum,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "minLength": _min_length,
    "maxLength": _max_length,
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional,
    "required": _required,
    "minProperties": _min_properties,
    "maxProperties": _max_properties,
    "items": _items,
    "maxItems": _max_items,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "format": _format,
}


def validate(schema: Schema, body: Any) -> None:
    """Raise Cinder's 400 for the first way `body` breaks `schema`."""
    try:
        _check(schema, body, [])
    except _Invalid as err:
        if err.path:
            raise ApiError(
                400,
                f"Invalid input for field/attribute {err.path[-1]}. Value: "
                f"{err.instance}. {err.message}",
            ) from None
        raise ApiError(400, err.message) from None


# -- Cinder's parameter types and schemas ----------------------------------------------

DB_MAX_INT = 0x7FFFFFFF
BOOLEAN: Schema = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t",
             False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n",
             "f"],
}  # fmt: skip
UUID: Schema = {"type": "string", "format": "uuid"}
OPTIONAL_UUID: Schema = {"oneOf": [{"type": "null"}, {"type": "string", "format": "uuid"}]}
METADATA_KEY = "^[a-zA-Z0-9-_:. /]{1,255}$"
EXTRA_SPECS: Schema = {
    "type": "object",
    "patternProperties": {METADATA_KEY: {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}
VOLUME_SIZE: Schema = {
    "type": ["integer", "string"],
    "pattern": "^[0-9]+$",
    "minimum": 1,
    "maximum": DB_MAX_INT,
}
_NAME = {"type": ["string", "null"], "format": "name_non_mandatory_remove_white_spaces"}
_DESCRIPTION = {
    "type": ["string", "null"],
    "format": "description_non_mandatory_remove_white_spaces",
}


def _create_volume() -> Schema:
    metadata = {**copy.deepcopy(EXTRA_SPECS), "type": ["object", "null"]}
    size = {**copy.deepcopy(VOLUME_SIZE), "type": ["integer", "string", "null"]}
    return {
        "type": "object",
        "properties": {
            "volume": {
                "type": "object",
                "properties": {
                    "name": _NAME,
                    "description": _DESCRIPTION,
                    "display_name": _NAME,
                    "display_description": _DESCRIPTION,
                    "volume_type": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
                    "metadata": metadata,
                    "snapshot_id": OPTIONAL_UUID,
                    "source_volid": OPTIONAL_UUID,
                    "consistencygroup_id": OPTIONAL_UUID,
                    "size": size,
                    "availability_zone": {
                        "type": ["string", "null"],
                        "minLength": 1,
                        "maxLength": 255,
                    },
                    "multiattach": {"oneOf": [{"type": "null"}, BOOLEAN]},
                    "image_id": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
                    "imageRef": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
                },
                "additionalProperties": True,
            },
            "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]},
        },
        "required": ["volume"],
        "additionalProperties": False,
    }


def create_volume(version: tuple[int, int]) -> Schema:
    """The create schema at a microversion (3.13 group_id, 3.47 backup_id, 3.53 strict)."""
    schema = _create_volume()
    volume = schema["properties"]["volume"]
    if version >= (3, 13):
        volume["properties"]["group_id"] = {
            "type": ["string", "null"],
            "minLength": 0,
            "maxLength": 255,
        }
    if version >= (3, 47):
        volume["properties"]["backup_id"] = OPTIONAL_UUID
    if version >= (3, 53):
        volume["additionalProperties"] = False
    return schema


def update_volume(version: tuple[int, int]) -> Schema:
    volume: Schema = {
        "type": "object",
        "properties": {
            "name": _NAME,
            "description": _DESCRIPTION,
            "display_name": _NAME,
            "display_description": _DESCRIPTION,
            "metadata": EXTRA_SPECS,
        },
        "additionalProperties": False,
    }
    if version >= (3, 53):
        volume["anyOf"] = [
            {"required": [k]}
            for k in ("name", "description", "display_name", "display_description", "metadata")
        ]
    return {
        "type": "object",
        "properties": {"volume": volume},
        "required": ["volume"],
        "additionalProperties": False,
    }


def _top(name: str, body: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {name: body},
        "required": [name],
        "additionalProperties": False,
    }


METADATA_CREATE = _top("metadata", EXTRA_SPECS)
METADATA_UPDATE = _top("meta", {**EXTRA_SPECS, "minProperties": 1, "maxProperties": 1})
