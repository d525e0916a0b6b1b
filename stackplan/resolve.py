"""Names → IDs: servers' `image` and `flavor` resolved against one listing of each.

One flavor listing and one image listing per run, whatever the number of servers; every
problem is collected and reported at once. Keypairs pass through unchanged.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from stackplan.cloud.image import Image
from stackplan.cloud.model import Flavor
from stackplan.errors import CloudError, ResolveError
from stackplan.spec.model import Desired, DesiredResource


class CloudLookups(Protocol):
    """What resolution needs from a cloud (`stackplan.cloud.Cloud` provides it)."""

    compute: Any

    def list_images(self) -> tuple[Image, ...]: ...


@dataclass(frozen=True, slots=True)
class Tables:
    """The flavors and images listed once for a run; the plan reads flavor sizes here."""

    flavors: tuple[Flavor, ...] = ()
    images: tuple[Image, ...] = ()
    flavors_by_id: Mapping[str, Flavor] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, flavors: Sequence[Flavor], images: Sequence[Image]) -> Tables:
        return cls(tuple(flavors), tuple(images), MappingProxyType({f.id: f for f in flavors}))

    def flavor(self, flavor_id: str) -> Flavor | None:
        return self.flavors_by_id.get(flavor_id)


def load_tables(cloud: CloudLookups, *, flavors: bool = True, images: bool = True) -> Tables:
    """List flavors and images once (one listing per kind, all pages)."""
    return Tables.of(
        cloud.compute.list_flavors() if flavors else (),
        cloud.list_images() if images else (),
    )


def resolve(
    desired: Desired, cloud: CloudLookups | None = None, *, tables: Tables | None = None
) -> Desired:
    """`desired` with every server's image and flavor turned into IDs (and sizes).

    Lists from `cloud` unless `tables` are given; raises one `ResolveError` naming every
    problem. After it, a server holds image_id, image_name, flavor_id, flavor_name,
    flavor_vcpus, flavor_ram and flavor_disk instead of image and flavor.
    """
    servers = [r for r in desired.resources if r.kind == "server" and _unresolved(r)]
    if not servers:
        return desired
    if tables is None:
        if cloud is None:
            raise ValueError("resolve needs a cloud or tables")
        tables = load_tables(cloud)
    resolver = _Resolver(tables, cloud)
    resolved = []
    for resource in desired.resources:
        if resource.kind == "server" and _unresolved(resource):
            resolved.append(resolver.server(resource))
        else:
            resolved.append(resource)
    if resolver.problems:
        raise _error(resolver.problems)
    return desired.with_resources(tuple(resolved))


def _unresolved(resource: DesiredResource) -> bool:
    return "image" in resource.attrs or "flavor" in resource.attrs


@dataclass(frozen=True, slots=True, order=True)
class _Problem:
    where: str
    address: str
    message: str
    hint: str = ""


class _Resolver:
    def __init__(self, tables: Tables, cloud: CloudLookups | None):
        self.tables = tables
        self.cloud = cloud
        self.problems: list[_Problem] = []
        self._images_by_id = {i.id: i for i in tables.images}
        self._fetched: dict[str, Image | None] = {}

    def server(self, resource: DesiredResource) -> DesiredResource:
        attrs = dict(resource.attrs)
        image = self.image(resource, attrs.get("image") or {})
        flavor = self.flavor(resource, attrs.get("flavor") or {})
        if image is not None and flavor is not None:
            self.check_fit(resource, image, flavor)
        if image is None or flavor is None:
            return resource
        attrs.pop("image", None)
        attrs.pop("flavor", None)
        attrs.update(
            image_id=image.id,
            image_name=image.name,
            flavor_id=flavor.id,
            flavor_name=flavor.name,
            flavor_vcpus=flavor.vcpus,
            flavor_ram=flavor.ram,
            flavor_disk=flavor.disk,
        )
        return resource.with_attrs(attrs)

    def problem(
        self, resource: DesiredResource, field_name: str, message: str, hint: str = ""
    ) -> None:
        where = f"{resource.where} servers.{resource.address.name}.{field_name}".strip()
        self.problems.append(_Problem(where, str(resource.address), message, hint))

    # -- images --------------------------------------------------------------------------

    def image(self, resource: DesiredResource, ref: Mapping[str, Any]) -> Image | None:
        if "id" in ref:
            image = self._image_by_id(str(ref["id"]))
            if image is None:
                self.problem(
                    resource,
                    "image",
                    f"image ID {ref['id']!r} does not exist",
                    "check the ID with `openstack image list`",
                )
                return None
            return self._active(resource, image)
        name = str(ref.get("name", ""))
        if name in self._images_by_id:  # an ID where a name was expected: openstacksdk find
            return self._active(resource, self._images_by_id[name])
        matches = [i for i in self.tables.images if i.name == name]
        if not matches:
            names = sorted({i.name for i in self.tables.images if i.name})
            self.problem(resource, "image", f"no image named {name!r}", _did_you_mean(name, names))
            return None
        if len(matches) > 1:
            if ref.get("most_recent"):
                active = [i for i in matches if i.status == "active"] or matches
                return self._active(resource, max(active, key=lambda i: (i.created_at or "", i.id)))
            listed = "; ".join(
                f"{i.id} (created {i.created_at or 'unknown'}, {i.status})"
                for i in sorted(matches, key=lambda i: (i.created_at or "", i.id))
            )
            self.problem(
                resource,
                "image",
                f"{len(matches)} images are named {name!r}: {listed}",
                f"pick one with image: {{id: {matches[0].id}}} or take the newest with "
                f"image: {{name: {name!r}, most_recent: true}}",
            )
            return None
        return self._active(resource, matches[0])

    def _image_by_id(self, image_id: str) -> Image | None:
        found = self._images_by_id.get(image_id)
        if found is not None or self.cloud is None:
            return found
        # Not listed (a community or hidden image): ask once for this very ID.
        if image_id not in self._fetched:
            try:
                self._fetched[image_id] = self.cloud.image.get_image(image_id)
            except CloudError as exc:
                if exc.status not in (400, 404):
                    raise
                self._fetched[image_id] = None
            except AttributeError:
                self._fetched[image_id] = None
        return self._fetched[image_id]

    def _active(self, resource: DesiredResource, image: Image) -> Image | None:
        if image.status != "active":
            self.problem(
                resource,
                "image",
                f"image {image.name!r} ({image.id}) is {image.status}, not active; "
                "the cloud will not boot it",
                "choose an active image (`openstack image list --status active`)",
            )
            return None
        return image

    # -- flavors -------------------------------------------------------------------------

    def flavor(self, resource: DesiredResource, ref: Mapping[str, Any]) -> Flavor | None:
        if "id" in ref:
            flavor = self.tables.flavor(str(ref["id"]))
            if flavor is None:
                self.problem(
                    resource,
                    "flavor",
                    f"flavor ID {ref['id']!r} does not exist",
                    "check the ID with `openstack flavor list`",
                )
            return flavor
        name = str(ref.get("name", ""))
        if self.tables.flavor(name) is not None:  # try the ID first, as openstacksdk does
            return self.tables.flavor(name)
        matches = [f for f in self.tables.flavors if f.name == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(sorted(f.id for f in matches))
            self.problem(
                resource,
                "flavor",
                f"{len(matches)} flavors are named {name!r}: {ids}",
                "pick one with flavor: {id: ...}",
            )
            return None
        names = sorted(f.name for f in self.tables.flavors)
        self.problem(resource, "flavor", f"no flavor named {name!r}", _did_you_mean(name, names))
        return None

    def check_fit(self, resource: DesiredResource, image: Image, flavor: Flavor) -> None:
        if image.min_ram and flavor.ram < image.min_ram:
            self.problem(
                resource,
                "flavor",
                f"flavor {flavor.name!r} has {flavor.ram} MiB of RAM but image "
                f"{image.name!r} needs at least {image.min_ram} MiB",
                _bigger(self.tables.flavors, image),
            )
        # A flavor disk of 0 means "as large as the image": no minimum applies.
        if image.min_disk and flavor.disk and flavor.disk < image.min_disk:
            self.problem(
                resource,
                "flavor",
                f"flavor {flavor.name!r} has a {flavor.disk} GiB disk but image "
                f"{image.name!r} needs at least {image.min_disk} GiB",
                _bigger(self.tables.flavors, image),
            )


def _did_you_mean(name: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[n] for n in difflib.get_close_matches(name.lower(), list(lowered))]
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(repr(n) for n in names[:10])
    return f"the cloud has: {shown}" if names else "the cloud lists none"


def _bigger(flavors: Sequence[Flavor], image: Image) -> str:
    fitting = sorted(
        (
            f
            for f in flavors
            if f.ram >= image.min_ram and (f.disk == 0 or f.disk >= image.min_disk)
        ),
        key=lambda f: (f.vcpus, f.ram, f.disk),
    )
    if fitting:
        return "flavors big enough: " + ", ".join(f.name for f in fitting[:4])
    return "no flavor of this cloud is big enough for this image"


def _error(problems: list[_Problem]) -> ResolveError:
    """One error for all problems; identical problems of `count` copies share a line."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for p in sorted(problems):
        grouped.setdefault((p.where, p.message, p.hint), []).append(p.address)
    lines = []
    for (where, message, hint), addresses in grouped.items():
        shown = ", ".join(addresses[:3])
        if len(addresses) > 3:
            shown += f" and {len(addresses) - 3} more"
        lines.append(f"{where}: {shown}: {message}" + (f"\n    hint: {hint}" if hint else ""))
    count = len(grouped)
    summary = f"{count} problem{'s' if count != 1 else ''} resolving images and flavors"
    error = ResolveError("\n".join([*lines, summary]))
    error.problems = tuple(problems)  # type: ignore[attr-defined]
    return error
