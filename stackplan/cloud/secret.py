"""`Secret`: a password or token that prints as `***` wherever it ends up, and the masking
of secrets in logged headers and bodies.

Holds no logic beyond hiding: code that needs the value calls `reveal()` on purpose.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MASK = "***"


@dataclass(frozen=True, slots=True)
class Secret:
    """A sensitive string; `str`, `repr` and f-strings show `***`, never the value."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The real value, for the one place that must send it (a header, an auth body)."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling would write the value to disk: refuse
        raise TypeError("a Secret cannot be pickled")


SECRET_HEADERS = frozenset({"x-auth-token", "x-subject-token", "x-service-token", "authorization"})
# user_data is base64 of whatever cloud-init carries (passwords, keys): never logged.
SECRET_KEYS = frozenset(
    {
        "password",
        "adminPass",
        "secret",
        "private_key",
        "application_credential_secret",
        "user_data",
    }
)
BODY_LOG_LIMIT = 2000


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with token values replaced by a short digest, as keystoneauth logs them."""
    masked = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            digest = hashlib.sha256(str(value).encode()).hexdigest()[:16]
            masked[name] = f"{{SHA256}}{digest}"
        else:
            masked[name] = value
    return masked


def mask_body(body: bytes | str | None) -> str:
    """A body for the log: secrets in JSON masked, the catalog elided, long text cut."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if data is not None:
        text = json.dumps(_mask_value(data), sort_keys=True)
    if len(text) > BODY_LOG_LIMIT:
        text = f"{text[:BODY_LOG_LIMIT]}... ({len(text)} chars)"
    return text


# Values the spec marks sensitive (`sensitive: true` variables), masked wherever they occur
# in a logged body or URL; registered once per run, before the cloud is reached.
_SENSITIVE: set[str] = set()
_SENSITIVE_LOCK = threading.Lock()


def register_sensitive(values: Iterable[str]) -> None:
    """Mask each of `values` (and its JSON-escaped form) in every log line from now on."""
    with _SENSITIVE_LOCK:
        for value in values:
            if value:
                _SENSITIVE.add(value)
                _SENSITIVE.add(json.dumps(value)[1:-1])


def mask_sensitive(text: str) -> str:
    """`text` with every registered sensitive value replaced by ***."""
    with _SENSITIVE_LOCK:
        values = sorted(_SENSITIVE, key=len, reverse=True)
    for value in values:
        text = text.replace(value, MASK)
    return text


def _mask_value(value: Any, key: str | None = None) -> Any:
    if key in SECRET_KEYS and value is not None and not isinstance(value, (dict, list)):
        return MASK
    if key in ("catalog", "serviceCatalog") and isinstance(value, list):
        return "<removed>"
    if isinstance(value, dict):
        out = {k: _mask_value(v, k) for k, v in value.items()}
        if key == "token" and "id" in out:  # {"token": {"id"}}: v2 access and token auth
            out["id"] = MASK
        return out
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    return value
