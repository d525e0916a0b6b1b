"""What every Neutron handler shares: the error body, the caller, timestamps, policy
denials, and request bodies checked against an attribute map as Neutron's API layer does
(`neutron/api/v2/base.py` `prepare_request_body`, `neutron_lib/api/attributes.py`).

Messages are Neutron's own, down to the punctuation: a `NeutronError` carries the
exception class name Neutron would put in `{"NeutronError": {"type": ...}}`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stackplan.sim import identity
from stackplan.sim.wire import ApiError, Request

# webob's class names, used as `type` when Neutron raises a plain HTTP exception.
_WEBOB = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    409: "HTTPConflict",
    429: "HTTPTooManyRequests",
    500: "HTTPInternalServerError",
    501: "HTTPNotImplemented",
    503: "HTTPServiceUnavailable",
}


class _Unset:
    """Neutron's ATTR_NOT_SPECIFIED: the attribute was not in the request."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class NeutronError(ApiError):
    """An ApiError with the Neutron exception name (`type` in the error body)."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(status, message)
        self.kind = kind


def error_body(err: ApiError) -> dict[str, Any]:
    """`{"NeutronError": {"type", "message", "detail"}}` for any error the app raises."""
    kind = getattr(err, "kind", None) or _WEBOB.get(err.status, "HTTPInternalServerError")
    message = err.message
    if err.status == 405 and not getattr(err, "kind", None):
        message = "The method specified is not allowed for this resource."
    elif err.status == 500 and message.startswith("Unexpected API Error"):
        message = "Request Failed: internal server error while processing your request."
    return {"NeutronError": {"type": kind, "message": message, "detail": ""}}


# -- error constructors (the classes of neutron_lib.exceptions) ------------------------


def http_bad_request(message: str) -> NeutronError:
    return NeutronError(400, "HTTPBadRequest", message)


def http_not_found() -> NeutronError:
    return NeutronError(404, "HTTPNotFound", "The resource could not be found.")


def bad_request(resource: str, message: str) -> NeutronError:
    return NeutronError(400, "BadRequest", f"Bad {resource} request: {message}.")


def invalid_input(message: str, kind: str = "InvalidInput") -> NeutronError:
    return NeutronError(400, kind, f"Invalid input for operation: {message}.")


def not_found(kind: str, message: str) -> NeutronError:
    return NeutronError(404, kind, message)


def conflict(kind: str, message: str) -> NeutronError:
    return NeutronError(409, kind, message)


def policy_denied(rule: str) -> NeutronError:
    """oslo.policy's 403: `rule` is the rule Neutron built, e.g. `rule:delete_network`
    or `(rule:create_network and rule:create_network:shared)`."""
    return NeutronError(403, "PolicyNotAuthorized", f"{rule} is disallowed by policy")


def rule(action: str, attrs: list[tuple[str, list[str]]] | None = None) -> str:
    """The policy rule text Neutron's `_build_match_rule` renders: the action, then one
    `rule:<action>:<attr>` per explicitly set policy-enforced attribute, with its
    sub-attribute rules (`(a and (b and c))`, as oslo.policy's AndCheck prints)."""
    text = f"rule:{action}"
    for attr, subs in attrs or []:
        part = f"rule:{action}:{attr}"
        if subs:
            inner = " and ".join(f"rule:{action}:{attr}:{s}" for s in subs)
            part = f"({part} and ({inner}))"
        text = f"({text} and {part})"
    return text


def over_quota(resources: list[str]) -> NeutronError:
    return conflict("OverQuota", f"Quota exceeded for resources: {sorted(resources)}.")


# -- the caller ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the token's project and whether it holds the admin role."""

    project_id: str
    admin: bool = False

    def owns(self, project_id: str | None) -> bool:
        return self.admin or project_id == self.project_id


def caller(req: Request) -> Caller:
    return Caller(req.token.project_id, identity.is_admin(req.token))


def new_id() -> str:
    return str(uuid.uuid4())


def stamp(ts: float) -> str:
    """Neutron's timestamp form: whole seconds, then `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# -- request bodies --------------------------------------------------------------------

Convert = Callable[[Any], Any]
Validate = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class Attr:
    """One entry of a Neutron attribute map. `default=UNSET` with `required` False means
    the attribute is optional and left unset; `required` means POST must carry it."""

    post: bool = True
    put: bool = True
    default: Any = UNSET
    required: bool = False
    convert: Convert | None = None
    validate: Validate | None = None


AttrMap = dict[str, Attr]
_READ_ONLY = Attr(post=False, put=False)


def read_only(*names: str) -> AttrMap:
    """Attributes Neutron shows but takes in no request: naming them is a 400 (with
    "not allowed in POST" / "Cannot update read-only attribute", not "Unrecognized")."""
    return dict.fromkeys(names, _READ_ONLY)


STANDARD_READ_ONLY = read_only("created_at", "updated_at", "revision_number")


def _project_string(data: Any) -> str | None:
    if not isinstance(data, str):
        return f"'{data}' is not a valid string"
    if len(data) > 255:
        return f"'{data}' exceeds maximum length of 255"
    return None


_PROJECT = Attr(put=False, validate=_project_string)
PROJECT_ATTRS: AttrMap = {"tenant_id": _PROJECT, "project_id": _PROJECT}


def read_body(req: Request) -> Any:
    """The JSON body, or Neutron's 400 for one that is not a JSON object."""
    if not req.body:
        return None
    try:
        data = json.loads(req.body)
    except ValueError:
        raise http_bad_request("Body contains invalid data") from None
    if not isinstance(data, dict):
        raise http_bad_request("Body contains invalid data")
    return data


def prepare(
    req: Request,
    resource: str,
    spec: AttrMap,
    is_create: bool,
    who: Caller,
    bulk: bool = False,
) -> list[dict[str, Any]]:
    """The request's resource dicts, checked, converted and (for POST) with defaults.

    One dict for a plain request; several for a bulk POST (`{"networks": [...]}`)."""
    data = read_body(req)
    collection = resource + "s"
    if not data or not (resource in data or collection in data):
        raise http_bad_request(f"Unable to find '{resource}' in request body")
    if collection in data:
        if not (bulk and is_create):
            raise http_bad_request("Bulk operation not supported")
        items = data[collection]
        if not items:
            raise http_bad_request("Resources required")
        if not isinstance(items, list):
            raise http_bad_request("Body contains invalid data")
        unwrapped = [i[resource] if isinstance(i, dict) and resource in i else i for i in items]
        return [prepare_item(i, resource, spec, is_create, who) for i in unwrapped]
    return [prepare_item(data[resource], resource, spec, is_create, who)]


def bulk_requested(req: Request, resource: str) -> bool:
    """Whether the POST named the collection (`{"networks": [...]}`): answer in kind."""
    data = read_body(req)
    return bool(data) and resource + "s" in data


def prepare_item(
    item: Any, resource: str, spec: AttrMap, is_create: bool, who: Caller
) -> dict[str, Any]:
    if item is None:
        raise http_bad_request(f"Unable to find '{resource}' in request body")
    if not isinstance(item, dict):
        raise http_bad_request(f"Object '{resource}' contains invalid data")
    item = dict(item)
    spec = {**spec, **PROJECT_ATTRS}
    if "tenant_id" in item and "project_id" not in item:
        item["project_id"] = item["tenant_id"]
    elif "project_id" in item and "tenant_id" not in item:
        item["tenant_id"] = item["project_id"]
    if item.get("project_id") != item.get("tenant_id"):
        raise http_bad_request("'project_id' and 'tenant_id' do not match")
    if "project_id" in item and item["project_id"] != who.project_id and not who.admin:
        raise http_bad_request(
            "Specifying 'project_id' other than the authenticated project in request "
            "is not allowed for the current user."
        )
    if is_create and "project_id" not in item:
        item["project_id"] = item["tenant_id"] = who.project_id
    extra = [k for k in item if k not in spec]
    if extra:
        raise http_bad_request(f"Unrecognized attribute(s) '{', '.join(extra)}'")
    for name, attr in spec.items():
        if is_create:
            if not attr.post:
                if name in item:
                    raise http_bad_request(f"Attribute '{name}' not allowed in POST")
                continue
            if attr.required and name not in item:
                raise http_bad_request(
                    f"Failed to parse request. Required attribute '{name}' not specified"
                )
            item.setdefault(name, attr.default)
        elif name in item and not attr.put:
            raise http_bad_request(f"Cannot update read-only attribute {name}")
    for name, attr in spec.items():
        if name not in item or item[name] is UNSET:
            continue
        if attr.convert is not None:
            item[name] = attr.convert(item[name])
        if attr.validate is not None:
            reason = attr.validate(item[name])
            if reason:
                raise http_bad_request(f"Invalid input for {name}. Reason: {reason}.")
    return item


def explicitly_set(item: dict[str, Any], spec: AttrMap, name: str) -> bool:
    """Neutron's `_is_attribute_explicitly_set` for a create: present and not the default."""
    if name not in item or item[name] is UNSET:
        return False
    attr = spec.get(name)
    return attr is None or attr.default is UNSET or item[name] != attr.default
