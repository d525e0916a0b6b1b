"""The kinds stackplan knows: one line each. Everything that lists kinds derives from here
(sections of the spec, its schema's address pattern, the addresses the CLI accepts).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from stackplan.addr import Address
from stackplan.errors import StackplanError
from stackplan.kinds.base import Kind
from stackplan.kinds.floating_ip import FloatingIpKind
from stackplan.kinds.keypair import KeypairKind
from stackplan.kinds.network import NetworkKind
from stackplan.kinds.port import PortKind
from stackplan.kinds.router import RouterKind
from stackplan.kinds.security_group import SecurityGroupKind
from stackplan.kinds.server import ServerKind
from stackplan.kinds.server_group import ServerGroupKind
from stackplan.kinds.subnet import SubnetKind
from stackplan.kinds.volume import VolumeKind
from stackplan.suggest import did_you_mean

KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            ServerKind(),
            KeypairKind(),
            ServerGroupKind(),
            NetworkKind(),
            SubnetKind(),
            RouterKind(),
            SecurityGroupKind(),
            PortKind(),
            FloatingIpKind(),
            VolumeKind(),
        )
    }
)


def kind_of(name: str) -> Kind:
    """The kind called `name`; an error naming the known ones for anything else."""
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(KINDS)
        raise StackplanError(
            f"unknown resource kind {name!r}{did_you_mean(name, KINDS)}",
            hint=f"the kinds are: {known}",
        ) from None


def parse_address(text: str) -> Address:
    """`KIND.NAME[INDEX]` of a registered kind, as a user typed it (flags, arguments)."""
    address = Address.parse(text, example=example_addresses())
    if address.kind not in KINDS:
        raise StackplanError(
            f"{text!r} is not a resource address: no kind {address.kind!r}"
            f"{did_you_mean(address.kind, KINDS)}",
            hint=f"addresses look like {example_addresses()}",
        )
    return address


def example_addresses() -> str:
    """`server.NAME, server.NAME[INDEX], keypair.NAME, ...`: every kind's address form."""
    forms = [f"{name}.NAME" for name in KINDS]
    return ", ".join([forms[0], f"{next(iter(KINDS))}.NAME[INDEX]", *forms[1:]])


def address_pattern() -> str:
    """The regular expression of an address of any registered kind (for the schemas)."""
    kinds = "|".join(sorted(KINDS))
    return rf"^({kinds})\.[A-Za-z0-9_-]+(\[[0-9]+\])?$"
