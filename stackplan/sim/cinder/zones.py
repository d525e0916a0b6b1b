"""`GET /os-availability-zone` (`api/contrib/availability_zones.py`): the zones of the
volume services, here the one storage backend's `nova`."""

from __future__ import annotations

from stackplan.sim.cinder.seed import ZONE
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response


def listing(ctx: Context, req: Request) -> Response:
    zones = [{"zoneName": ZONE, "zoneState": {"available": True}}]
    return Response(200, {"availabilityZoneInfo": zones})
