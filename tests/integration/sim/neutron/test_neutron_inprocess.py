"""The in-process port functions Nova's side calls (`stackplan.sim.neutron.ports`): the
same checks and results as the API, inside the caller's write transaction."""

from __future__ import annotations

import ipaddress

import pytest

from stackplan.sim.neutron import ports, schema
from stackplan.sim.neutron.common import Caller, NeutronError
from tests.integration.sim.neutron.conftest import DEMO_PROJECT, Neutron


def test_create_update_delete_port_in_process(make_sim):
    handle = make_sim()
    ctx = handle._server.sim.ctx
    schema.ready(ctx)
    client = Neutron(handle.url)
    (private,) = client.listing("networks", name="private")
    who = Caller(DEMO_PROJECT)
    with ctx.db.write() as conn:
        port = ports.create_port(
            ctx,
            conn,
            who,
            {"network_id": private["id"], "device_id": "server-1", "device_owner": "compute:nova"},
        )
    (subnet,) = client.listing("subnets", network_id=private["id"])
    address = ipaddress.ip_address(port["fixed_ips"][0]["ip_address"])
    assert address in ipaddress.ip_network(subnet["cidr"])
    assert client.show("ports", port["id"]) == port
    with ctx.db.write() as conn:
        moved = ports.update_port(ctx, conn, who, port["id"], {"device_id": "server-2"})
    assert moved["device_id"] == "server-2" and moved["revision_number"] == 2
    with ctx.db.write() as conn:
        assert ports.find_ports(conn, who, device_id="server-2") == [moved]
        assert ports.find_ports(conn, Caller("someone-else"), device_id="server-2") == []
    with ctx.db.write() as conn, pytest.raises(NeutronError) as caught:
        ports.create_port(ctx, conn, who, {"network_id": private["id"], "bogus": 1})
    assert (
        caught.value.status == 400 and caught.value.message == "Unrecognized attribute(s) 'bogus'"
    )
    with ctx.db.write() as conn:
        ports.delete_port(ctx, conn, who, port["id"])
    assert client.listing("ports", device_id="server-2") == []
