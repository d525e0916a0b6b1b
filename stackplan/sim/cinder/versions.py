"""Cinder's version documents (`GET /volume`, 300, and `GET /volume/v3`, which needs a
token) and microversion negotiation with its quirks (`api/openstack/wsgi.py`
`Request.set_api_version_request`, `Resource.__call__`).

Advertised: 3.0-3.70, what Cinder 2023.1 reports (`updated` 2022-08-31). 3.71 only adds
the `os-extend_volume_completion` action Nova sends after an attached extend, which the
simulator does not serve. Every field of the volume views up to 3.70 is rendered.
"""

from __future__ import annotations

import re
from typing import Any

from stackplan.sim.cinder.common import GENERIC_400, GENERIC_500
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 70)
UPDATED = "2022-08-31T00:00:00Z"
HEADER = "OpenStack-API-Version"
# cinder's APIVersionRequest: major and minor, no leading zeros (0 itself allowed)
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
Version = tuple[int, int]


def vstr(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def _entry(base: str) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": vstr(MAX_VERSION),
        "min_version": vstr(MIN_VERSION),
        "updated": UPDATED,
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{base}/volume/v3/"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }


def headers(version: Version) -> dict[str, str]:
    return {HEADER: f"volume {vstr(version)}", "Vary": HEADER}


def root(ctx: Context, req: Request) -> Response:
    """`GET /volume/`: the versions, 300 Multiple Choices, no token needed."""
    return Response(300, {"versions": [_entry(req.base)]}, headers(MIN_VERSION))


def v3(ctx: Context, req: Request) -> Response:
    """`GET /volume/v3/`: the same list, 200, behind keystonemiddleware (the API wrapper
    negotiates the microversion and adds its headers)."""
    return Response(200, {"versions": [_entry(req.base)]})


def negotiate(req: Request) -> Version:
    """The requested microversion (3.0 without the header), or Cinder's error.

    Cinder looks for the substring `volume` in each comma-separated part; a part
    `volume` alone fails to unpack (500); no such part is VersionNotFoundForAPIMethod,
    which reaches the client as a plain 400. A version outside the range is 406, and
    echoes the version asked for unless it is a legacy one (1.0, 2.0).
    """
    raw = req.header(HEADER)
    if raw is None:
        return MIN_VERSION
    value = None
    for part in raw.split(","):
        if "volume" in part:
            words = part.split()
            if len(words) != 2:
                raise ApiError(500, GENERIC_500)
            value = words[1]
            break
    if not value:
        raise ApiError(400, GENERIC_400)
    if value == "latest":
        return MAX_VERSION
    match = _VERSION_RE.match(value)
    if not match:
        raise ApiError(
            400,
            f"API Version String {value} is of invalid format. Must be of format "
            "MajorNum.MinorNum.",
        )
    wanted = (int(match[1]), int(match[2]))
    if not MIN_VERSION <= wanted <= MAX_VERSION:
        legacy = "1.0" in value or "2.0" in value
        raise ApiError(
            406,
            f"Version {vstr(wanted)} is not supported by the API. Minimum is "
            f"{vstr(MIN_VERSION)} and maximum is {vstr(MAX_VERSION)}.",
            {} if legacy else headers(wanted),
        )
    return wanted
