"""What every Cinder handler shares: the fault body, the caller, timestamps, and the
errors Cinder raises, with its wording (`cinder/exception.py`, `api/openstack/wsgi.py`
`Fault`, `api/middleware/fault.py`).

Cinder names its error envelope after the status, as Nova does, but 406, 429 and 500
fall through to `computeFault`; a quota error carries the exception's class name in its
message and `retryAfter: "0"`; a path no route knows is webob's own JSON 404.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from stackplan.sim import identity
from stackplan.sim.wire import ApiError, Request

_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    501: "notImplemented",
    503: "serviceUnavailable",
}
# The app's own message for a path no route matches (see `app.Simulator.handle`).
UNROUTED = "The resource could not be found."
GENERIC_400 = (
    "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect."
)
GENERIC_500 = "The server has either erred or is incapable of performing the requested operation."


def error_body(err: ApiError) -> dict[str, Any]:
    """Cinder's `{"<fault name>": {"code", "message"}}` for any error the app raises."""
    if err.status in (404, 405) and err.message in (UNROUTED, "Method not allowed."):
        # The routes mapper found nothing: webob's JSON rendering of HTTPNotFound.
        return {
            "message": "The resource could not be found.<br /><br />\n\n\n",
            "code": "404 Not Found",
            "title": "Not Found",
        }
    message = err.message
    if err.status == 500 and message.startswith("Unexpected API Error"):
        message = GENERIC_500
    inner: dict[str, Any] = {"code": err.status, "message": message}
    if err.status == 413 and "Retry-After" in err.headers:
        inner["retryAfter"] = err.headers["Retry-After"]
    return {_FAULT_NAMES.get(err.status, "computeFault"): inner}


def unrouted() -> ApiError:
    return ApiError(404, UNROUTED)


# -- the exceptions of cinder/exception.py -----------------------------------------------


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def invalid_input(reason: str) -> ApiError:
    return ApiError(400, f"Invalid input received: {reason}")


def invalid_volume(reason: str) -> ApiError:
    return ApiError(400, f"Invalid volume: {reason}")


def volume_not_found(volume_id: str) -> ApiError:
    return ApiError(404, f"Volume {volume_id} could not be found.")


def type_not_found(type_id: str) -> ApiError:
    return ApiError(404, f"Volume type {type_id} could not be found.")


def type_name_not_found(name: str) -> ApiError:
    return ApiError(404, f"Volume type with name {name} could not be found.")


def policy_denied(action: str) -> ApiError:
    return ApiError(403, f"Policy doesn't allow {action} to be performed.")


def quota_error(kind: str, message: str) -> ApiError:
    """A QuotaError: 413, `safe`, so FaultWrapper prefixes the class name."""
    return ApiError(413, f"{kind}: {message}", {"Retry-After": "0"})


# -- the caller ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the token's project and user, and whether it holds the admin role
    (Cinder's `context.is_admin`, which lets it act on any project's volume)."""

    project_id: str
    user_id: str = ""
    admin: bool = False

    def sees(self, project_id: str) -> bool:
        return self.admin or project_id == self.project_id


def caller(req: Request) -> Caller:
    token = req.token
    return Caller(token.project_id, token.user_id, identity.is_admin(token))


def new_id() -> str:
    return str(uuid.uuid4())


def stamp(ts: float | None) -> str | None:
    """A timestamp as Cinder reads it back from MySQL: whole seconds, `.000000`."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000", time.gmtime(ts))


def stamp_exact(ts: float) -> str:
    """A timestamp not yet stored: the create response shows the microseconds."""
    micro = round((ts - int(ts)) * 1_000_000) % 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts))) + f".{micro:06d}"


def is_uuid_like(value: Any) -> bool:
    """oslo_utils.uuidutils.is_uuid_like: a UUID with or without dashes, any case."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)).replace("-", "") == value.replace("-", "").lower()
    except ValueError:
        return False


_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def bool_param(value: Any, strict: bool = False) -> bool:
    """oslo's strutils.bool_from_string (case-insensitive); strict raises ValueError."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if strict and text not in _FALSE:
        raise ValueError(value)
    return False
