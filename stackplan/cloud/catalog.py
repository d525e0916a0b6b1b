"""The service catalog a token carries, and picking one endpoint from it.

Built from a v3 `token.catalog` or a v2.0 `access.serviceCatalog`; holds no token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stackplan.errors import CloudError

INTERFACES = ("public", "internal", "admin")
# Official service type → accepted aliases (service-types-authority; identity doc 5.2).
ALIASES = {"block-storage": ("volumev3", "volumev2", "volume", "block-store")}


@dataclass(frozen=True, slots=True)
class Endpoint:
    service_type: str
    service_name: str | None
    interface: str  # public | internal | admin
    region: str | None
    url: str


@dataclass(frozen=True, slots=True)
class Catalog:
    """The endpoints of every service, in catalog order."""

    endpoints: tuple[Endpoint, ...] = ()

    @classmethod
    def from_v3(cls, services: Iterable[Mapping[str, Any]] | None) -> Catalog:
        found = []
        for service in services or ():
            for ep in service.get("endpoints") or ():
                found.append(
                    Endpoint(
                        service_type=str(service.get("type", "")),
                        service_name=service.get("name"),
                        interface=str(ep.get("interface", "")).lower(),
                        region=ep.get("region_id") or ep.get("region"),
                        url=str(ep.get("url") or ""),
                    )
                )
        return cls(tuple(found))

    @classmethod
    def from_v2(cls, services: Iterable[Mapping[str, Any]] | None) -> Catalog:
        found = []
        for service in services or ():
            for ep in service.get("endpoints") or ():
                for interface in INTERFACES:  # one v2 endpoint holds every interface
                    url = ep.get(f"{interface}URL")
                    if url:
                        found.append(
                            Endpoint(
                                service_type=str(service.get("type", "")),
                                service_name=service.get("name"),
                                interface=interface,
                                region=ep.get("region"),
                                url=str(url),
                            )
                        )
        return cls(tuple(found))

    def endpoint(
        self, service_type: str, interface: str = "public", region: str | None = None
    ) -> str:
        """The URL of `service_type` for `interface` in `region` (any region when None)."""
        interface = interface.lower().removesuffix("url")
        types = (service_type, *ALIASES.get(service_type, ()))
        for wanted in types:
            for ep in self.endpoints:
                if (
                    ep.service_type == wanted
                    and ep.interface == interface
                    and ep.url
                    and (region is None or ep.region == region)
                ):
                    return ep.url
        raise CloudError(self._not_found(service_type, interface, region), hint=self._hint())

    def service_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(ep.service_type for ep in self.endpoints))

    def _not_found(self, service_type: str, interface: str, region: str | None) -> str:
        if not self.endpoints:
            return (
                f"the token's service catalog is empty, so there is no {service_type} endpoint "
                "(is the token scoped to a project?)"
            )
        where = f" in {region} region" if region else ""
        return f"{interface} endpoint for {service_type} service{where} not found"

    def _hint(self) -> str:
        if not self.endpoints:
            return "set OS_PROJECT_NAME or OS_PROJECT_ID (project_name in clouds.yaml)"
        seen = sorted({f"{e.service_type}/{e.interface}/{e.region}" for e in self.endpoints})
        return (
            "the catalog has (type/interface/region): "
            + ", ".join(seen)
            + "; check OS_REGION_NAME and OS_INTERFACE, or set an endpoint override"
        )
