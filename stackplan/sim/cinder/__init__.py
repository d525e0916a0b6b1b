"""Cinder (block storage v3) at `/volume` (catalog types `block-storage` and `volumev3`,
as devstack registers them). Every resource is served both under `/volume/v3/` and
`/volume/v3/{project_id}/`, as Cinder's router connects both forms.

`ROUTES` are `(methods, template, handler, auth, discovery)` for `stackplan.sim.routes`;
every API handler first makes sure the Cinder tables exist (`schema.ready`), negotiates
the microversion and checks the URL's project. The in-process functions for Nova are in
`attach` (`attach_volume`, `detach`, `attachments_of_server`, `create_boot_volume`,
`get_volume`, `delete_volume`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from stackplan.sim.cinder import (
    actions,
    metadata,
    quotas,
    schema,
    versions,
    volume_api,
    volume_types,
    zones,
)
from stackplan.sim.cinder.common import unrouted
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

Handler = Callable[[Context, Request], Response]
V3 = "/volume/v3"
_PROJECT = re.compile(r"^[0-9a-f\-]+$")  # Cinder's default project_id_regex
_ANY = "GET HEAD POST PUT DELETE PATCH"


def _api(handler: Handler) -> Handler:
    def run(ctx: Context, req: Request) -> Response:
        project = req.params.get("project_id")
        if project is not None and not _PROJECT.match(project):
            raise unrouted()  # the mapper's project-less route does not match either
        schema.ready(ctx)
        version = versions.negotiate(req)
        shown = versions.headers(version)
        try:
            if project is not None and project != req.token.project_id:
                raise ApiError(400, "Malformed request url")
            response = handler(ctx, replace(req, version=version))
        except ApiError as err:
            err.headers = {**shown, **err.headers}
            raise
        return replace(response, headers={**shown, **response.headers})

    run.__name__ = handler.__name__
    return run


def _unrouted(ctx: Context, req: Request) -> Response:
    """A method the routes mapper has no route for: webob's 404, as for any path."""
    raise unrouted()


_RESOURCES: list[tuple[str, str, Handler]] = [
    ("GET", "/volumes", volume_api.list_volumes),
    ("POST", "/volumes", volume_api.create),
    ("GET", "/volumes/detail", volume_api.list_detail),
    ("GET", "/volumes/{volume_id}", volume_api.show),
    ("PUT", "/volumes/{volume_id}", volume_api.update),
    ("DELETE", "/volumes/{volume_id}", volume_api.delete),
    ("POST", "/volumes/{volume_id}/action", actions.action),
    ("GET", "/volumes/{volume_id}/metadata", metadata.index),
    ("POST", "/volumes/{volume_id}/metadata", metadata.create),
    ("PUT", "/volumes/{volume_id}/metadata", metadata.update_all),
    ("GET", "/volumes/{volume_id}/metadata/{key}", metadata.show),
    ("PUT", "/volumes/{volume_id}/metadata/{key}", metadata.update),
    ("DELETE", "/volumes/{volume_id}/metadata/{key}", metadata.delete),
    ("GET", "/types", volume_types.listing),
    ("GET", "/types/{type_id}", volume_types.show),
    ("GET", "/os-quota-sets/{target_id}", quotas.show),
    ("GET", "/os-quota-sets/{target_id}/defaults", quotas.defaults),
    ("GET", "/os-availability-zone", zones.listing),
    ("GET", "/limits", quotas.absolute_limits),
]


def _routes() -> list[tuple[str, str, Handler, bool, bool]]:
    found: list[tuple[str, str, Handler, bool, bool]] = []
    for prefix in (V3, f"{V3}/{{project_id}}"):
        paths: list[str] = []
        for method, path, handler in _RESOURCES:
            found.append((method, prefix + path, _api(handler), True, False))
            if path not in paths:
                paths.append(path)
        found += [(_ANY, prefix + path, _unrouted, True, False) for path in paths]
    return found


ROUTES: tuple[tuple[str, str, Handler, bool, bool], ...] = (
    ("GET", "/volume", versions.root, False, True),
    ("GET", V3, _api(versions.v3), True, True),
    *_routes(),
)
