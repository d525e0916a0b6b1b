"""Availability zones of networks and routers (`network_availability_zone`,
`router_availability_zone`): Neutron takes hints at create and checks them against the
zones its DHCP and L3 agents report. The simulator has no agents, as a cloud whose
agents report no zone, so every hint names a zone that does not exist."""

from __future__ import annotations

import json
from typing import Any

from stackplan.sim.neutron import checks
from stackplan.sim.neutron.common import Attr, invalid_input, not_found

_HINTS_DB_LEN = 255  # neutron_lib.db.constants.AZ_HINTS_DB_LEN


def _hints(data: Any) -> str | None:
    reason = checks.unique_strings()(data)
    if reason:
        return reason
    # Neutron stores the list as one JSON string column and measures that.
    if len(json.dumps(data)) > _HINTS_DB_LEN:
        raise invalid_input("Too many availability_zone_hints specified")
    return None


# `allow_put: False`: the hints are set at create only.
HINTS = Attr(put=False, default=[], validate=_hints)


def check_hints(hints: Any) -> None:
    """The plugin's `validate_availability_zones`: each hint must be a known zone."""
    for hint in hints or []:
        raise not_found("AvailabilityZoneNotFound", f"AvailabilityZone {hint} could not be found.")


def view() -> dict[str, Any]:
    """What a network or router shows: no hints were accepted, no agent hosts it."""
    return {"availability_zone_hints": [], "availability_zones": []}
