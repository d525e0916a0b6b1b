"""Nova's `GET /os-availability-zone` and `/detail`: one zone, `nova`, holding the
compute hosts; the control services sit in Nova's hidden `internal` zone."""

from __future__ import annotations

from datetime import UTC, datetime

from stackplan.sim import identity, server_groups
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

ZONE = "nova"  # Nova's default_availability_zone; the simulator has no host aggregates
_CONTROLLER = "sim-controller"


def listing(ctx: Context, req: Request) -> Response:
    zones = [{"zoneName": ZONE, "zoneState": {"available": True}, "hosts": None}]
    return Response(200, {"availabilityZoneInfo": zones})


def detail(ctx: Context, req: Request) -> Response:
    if not identity.is_admin(req.token):
        raise ApiError(
            403, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed."
        )
    # Services report in every few seconds; "now" is what a live cloud shows.
    updated = datetime.fromtimestamp(ctx.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000000")

    def service() -> dict[str, object]:
        return {"available": True, "active": True, "updated_at": updated}

    internal = {_CONTROLLER: {"nova-conductor": service(), "nova-scheduler": service()}}
    computes = {host: {"nova-compute": service()} for host in server_groups.host_names(ctx)}
    zones = [
        {"zoneName": "internal", "zoneState": {"available": True}, "hosts": internal},
        {"zoneName": ZONE, "zoneState": {"available": True}, "hosts": computes},
    ]
    return Response(200, {"availabilityZoneInfo": zones})
