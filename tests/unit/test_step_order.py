"""The order the executor starts ready steps in (`_ranks`): the longest chain first, and
what a step waits for beside a longer chain ranks with that chain."""

from __future__ import annotations

from stackplan.addr import Address
from stackplan.apply.executor import _ranks
from stackplan.apply.steps import CREATE, LATE, Step, build_steps
from stackplan.kinds.registry import KINDS
from stackplan.plan.model import Action, Change, Plan


def _create(address: Address, *deps: Address, late: tuple[Address, ...] = ()) -> Change:
    return Change(
        address,
        Action.CREATE,
        after={},
        depends_on=deps,
        late=("volumes",) if late else (),
        late_depends_on=late,
    )


def test_a_router_floating_ips_wait_for_ranks_with_their_servers_not_after_volumes():
    net, sub = Address("network", "app"), Address("subnet", "app")
    router, port = Address("router", "edge"), Address("port", "srv", 0)
    server, volume = Address("server", "srv", 0), Address("volume", "data", 0)
    fip = Address("floating_ip", "srv", 0)
    changes = (
        _create(net),
        _create(sub, net),
        _create(router, sub),
        _create(port, sub),
        _create(volume),
        _create(server, port, late=(volume,)),
        _create(fip, server, router),
    )
    plan = Plan("s", "lineage", 0, "digest", changes)
    rank = _ranks(build_steps(plan), KINDS)

    def of(address: Address, phase=CREATE) -> float:
        return rank[Step(address, phase, changes[0])]

    # A port starts before the server it carries; the server's build is the long wait.
    assert of(port) > of(server) > of(fip)
    # The router is needed beside the server (by the floating IP): it ranks with the
    # server, ahead of a volume that only the attachment after the build needs.
    assert of(router) >= of(server) >= of(volume)
    assert of(router) > of(fip) and of(server, LATE) < of(volume)
