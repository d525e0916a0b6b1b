"""A server's image and flavor: names turned into IDs (and sizes) against one listing of each.

The server kind's own look-ups (images and flavors are not resources of the stack). Each
listing is fetched once per run through `Reads`, whatever the number of servers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stackplan.errors import CloudError
from stackplan.kinds.base import Reads, ResolveContext
from stackplan.suggest import names_hint

if TYPE_CHECKING:
    from stackplan.cloud import Flavor, Image


def flavors(ctx: ResolveContext) -> tuple[Flavor, ...]:
    return ctx.reads.get(_FLAVORS, lambda: ctx.reads.cloud.compute.known_flavors())


def images(ctx: ResolveContext) -> tuple[Image, ...]:
    return ctx.reads.get(_IMAGES, lambda: ctx.reads.cloud.list_images())


def both_soon(reads: Reads) -> None:
    """Start listing images and flavors side by side: looked up one after the other, the
    second listing was a round trip more before the plan."""
    reads.soon(_IMAGES, lambda: reads.cloud.list_images())
    reads.soon(_FLAVORS, lambda: reads.cloud.compute.known_flavors())


_FLAVORS = "compute.flavors"
_IMAGES = "images"


def find_image(ctx: ResolveContext, ref: Mapping[str, Any]) -> Image | None:
    """The active image `ref` names ({id} / {name, most_recent}), or None and a problem."""
    listed = images(ctx)
    by_id = {i.id: i for i in listed}
    if "id" in ref:
        image = by_id.get(str(ref["id"])) or _fetched(ctx, str(ref["id"]))
        if image is None:
            ctx.problem(
                "image",
                f"image ID {ref['id']!r} does not exist",
                "check the ID with `openstack image list`",
            )
            return None
        return _active(ctx, image)
    name = str(ref.get("name", ""))
    if name in by_id:  # an ID where a name was expected: openstacksdk's find does the same
        return _active(ctx, by_id[name])
    matches = [i for i in listed if i.name == name]
    if not matches:
        names = [i.name for i in listed if i.name]
        ctx.problem("image", f"no image named {name!r}", names_hint(name, names))
        return None
    if len(matches) > 1:
        if ref.get("most_recent"):
            active = [i for i in matches if i.status == "active"] or matches
            return _active(ctx, max(active, key=lambda i: (i.created_at or "", i.id)))
        ordered = sorted(matches, key=lambda i: (i.created_at or "", i.id))
        listed_text = "; ".join(
            f"{i.id} (created {i.created_at or 'unknown'}, {i.status})" for i in ordered
        )
        ctx.problem(
            "image",
            f"{len(matches)} images are named {name!r}: {listed_text}",
            f"pick one with image: {{id: {matches[0].id}}} or take the newest with "
            f"image: {{name: {name!r}, most_recent: true}}",
        )
        return None
    return _active(ctx, matches[0])


def _fetched(ctx: ResolveContext, image_id: str) -> Image | None:
    """An image the listing does not show (community, hidden): asked for once by ID."""

    def fetch() -> Image | None:
        if ctx.reads.cloud is None:  # pure runs (tests) know only what was listed
            return None
        try:
            return ctx.reads.cloud.image.get_image(image_id)
        except CloudError as exc:
            if exc.status not in (400, 404):
                raise
            return None

    return ctx.reads.get(f"image:{image_id}", fetch)


def _active(ctx: ResolveContext, image: Image) -> Image | None:
    if image.status != "active":
        ctx.problem(
            "image",
            f"image {image.name!r} ({image.id}) is {image.status}, not active; "
            "the cloud will not boot it",
            "choose an active image (`openstack image list --status active`)",
        )
        return None
    return image


def find_flavor(ctx: ResolveContext, ref: Mapping[str, Any]) -> Flavor | None:
    """The flavor `ref` names ({id} / {name}), or None and a problem."""
    listed = flavors(ctx)
    by_id = {f.id: f for f in listed}
    if "id" in ref:
        flavor = by_id.get(str(ref["id"]))
        if flavor is None:
            ctx.problem(
                "flavor",
                f"flavor ID {ref['id']!r} does not exist",
                "check the ID with `openstack flavor list`",
            )
        return flavor
    name = str(ref.get("name", ""))
    if name in by_id:  # try the ID first, as openstacksdk does
        return by_id[name]
    matches = [f for f in listed if f.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(sorted(f.id for f in matches))
        ctx.problem(
            "flavor",
            f"{len(matches)} flavors are named {name!r}: {ids}",
            "pick one with flavor: {id: ...}",
        )
        return None
    ctx.problem("flavor", f"no flavor named {name!r}", names_hint(name, [f.name for f in listed]))
    return None


def check_fit(ctx: ResolveContext, image: Image, flavor: Flavor) -> None:
    """A problem when the flavor is too small for the image's minimums."""
    if image.min_ram and flavor.ram < image.min_ram:
        ctx.problem(
            "flavor",
            f"flavor {flavor.name!r} has {flavor.ram} MiB of RAM but image "
            f"{image.name!r} needs at least {image.min_ram} MiB",
            _bigger(flavors(ctx), image),
        )
    # A flavor disk of 0 means "as large as the image": no minimum applies.
    if image.min_disk and flavor.disk and flavor.disk < image.min_disk:
        ctx.problem(
            "flavor",
            f"flavor {flavor.name!r} has a {flavor.disk} GiB disk but image "
            f"{image.name!r} needs at least {image.min_disk} GiB",
            _bigger(flavors(ctx), image),
        )


def _bigger(listed: Sequence[Flavor], image: Image) -> str:
    fitting = sorted(
        (f for f in listed if f.ram >= image.min_ram and (f.disk == 0 or f.disk >= image.min_disk)),
        key=lambda f: (f.vcpus, f.ram, f.disk),
    )
    if fitting:
        return "flavors big enough: " + ", ".join(f.name for f in fitting[:4])
    return "no flavor of this cloud is big enough for this image"
