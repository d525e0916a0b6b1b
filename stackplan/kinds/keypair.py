"""The keypair kind: Nova keypairs imported from a public key; a new key replaces.

Keypairs are named, not numbered: the name is the ID, and what a server's `key_pair`
takes. They have no metadata to carry a marker, so ownership is known from the journal:
before a create the state notes whether a keypair of that name existed. One that did is
another's: used as it is when its key matches the spec (a `foreign` record), never deleted.
One that appeared after the intent is ours (a create whose answer was lost).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.errors import CloudError
from stackplan.kinds.base import Await, Effect, Kind, Made, Marker, Named, ObservedResource, Reads
from stackplan.state.model import CREATE_TOKEN, RecordStatus

if TYPE_CHECKING:
    from stackplan.cloud import Cloud, Keypair
    from stackplan.spec.expand import Entry
    from stackplan.state.model import ResourceRecord

_EXISTED = "existed"  # intent: a keypair of that name was there before our create
_KEY_TYPES = ("ssh-rsa", "ssh-ed25519", "ssh-dss", "sk-ssh-ed25519@openssh.com")
_PUBLIC_KEY = re.compile(r"^(?P<type>[a-z0-9@.-]+)\s+(?P<blob>[A-Za-z0-9+/]+={0,2})(?:\s+.*)?$")


class KeypairKind(Kind):
    name: ClassVar[str] = "keypair"
    section: ClassVar[str] = "keypairs"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "public_key": {"type": "string", "minLength": 1},
            "public_key_file": {"type": "string", "minLength": 1},
        },
        "oneOf": [{"required": ["public_key"]}, {"required": ["public_key_file"]}],
        "x-messages": {"oneOf": "give exactly one of public_key or public_key_file"},
    }
    example: ClassVar[Mapping[str, Any]] = {
        "public_key": "ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIBvj1N1A2zCzQYTlVsF2NXHtb4CkHF3cqnGdPGNk8RqS"
    }
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name", "fingerprint", "public_key")
    ref_attr: ClassVar[str] = "name"
    ignorable: ClassVar[Mapping[str, str]] = {
        "name": "name",
        "public_key": "public_key",
        "public_key_file": "public_key",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.REPLACE,
        "public_key": Effect.REPLACE,
    }
    marked: ClassVar[bool] = False
    unique_names: ClassVar[bool] = True

    # -- the spec half --------------------------------------------------------------------

    def expand(self, entry: Entry) -> dict[str, Any]:
        if entry.has("public_key"):
            field, key = "public_key", entry.value("public_key")
        else:
            field, key = "public_key_file", entry.read_file("public_key_file")
        if isinstance(key, str) and (problem := public_key_problem(key)):
            entry.problem(field, problem)
        return {"name": entry.cloud_name(), "public_key": (key or "").strip()}

    def lookup(self, reads: Reads) -> list[Named]:
        return [Named(k.name, k.name, k.name) for k in _keypairs(reads)]

    # -- the cloud half -------------------------------------------------------------------

    def read_many(
        self, reads: Reads, records: Sequence[ResourceRecord], lineage: str
    ) -> list[ObservedResource]:
        """Every keypair of the user (there are few): those the state does not hold are
        another's, except one a pending create of ours noted as not there before."""
        ours = {
            str(r.attributes.get("name")): Marker(lineage, str(r.address), _token(r))
            for r in records
            if r.status is RecordStatus.PENDING_CREATE and r.attributes.get(_EXISTED) is False
        }
        return [_observed(k, ours.get(k.name)) for k in _keypairs(reads)]

    def intent(self, cloud: Cloud, attrs: Mapping[str, Any]) -> dict[str, Any]:
        try:
            cloud.compute.get_keypair(attrs["name"])
        except CloudError as exc:
            if exc.status != 404:
                raise
            return {"name": attrs["name"], _EXISTED: False}
        return {"name": attrs["name"], _EXISTED: True}

    def carried_intent(
        self, earlier: Mapping[str, Any], now: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        # Absent before the earlier create and there now: that create made it.
        return {**now, _EXISTED: False} if earlier.get(_EXISTED) is False else now

    def find_created(
        self, cloud: Cloud, marker: Marker, intent: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> ObservedResource | None:
        if intent.get(_EXISTED) is not False:
            return None  # it was there before: not the one our create made
        try:
            return _observed(cloud.compute.get_keypair(attrs["name"]), marker)
        except CloudError as exc:
            if exc.status != 404:
                raise
            return None

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> Made:
        name, public_key = attrs["name"], attrs["public_key"]
        try:
            return Made(cloud.compute.import_keypair(name, public_key).name)
        except CloudError as exc:
            if exc.status != 409:
                raise
            # Made by someone else since the plan (ours would have been found by intent).
            raise CloudError(
                f"a keypair named {name!r} appeared in the cloud since the plan, made "
                "outside this stack",
                status=409,
                hint="plan again: a keypair with the spec's key is then used as it is",
            ) from exc

    def delete(self, cloud: Cloud, resource_id: str) -> Await | None:
        cloud.compute.delete_keypair(resource_id)
        return None


def _keypairs(reads: Reads) -> tuple[Keypair, ...]:
    return reads.get("compute.keypairs", lambda: reads.cloud.compute.list_keypairs())


def _observed(keypair: Keypair, marker: Marker | None = None) -> ObservedResource:
    attrs = {"name": keypair.name, "public_key": keypair.public_key.strip()}
    return ObservedResource("keypair", keypair.name, attrs, marker=marker)


def _token(record: ResourceRecord) -> str:
    return str(record.attributes.get(CREATE_TOKEN, ""))


def public_key_problem(text: str) -> str | None:
    """Why `text` is not an OpenSSH public key line, or None if it looks like one."""
    line = text.strip()
    if "PRIVATE KEY" in line:
        return "this is a private key; give the public key (the .pub file) instead"
    match = _PUBLIC_KEY.match(line)
    if not match or "\n" in line or not _known_type(match["type"]):
        return "does not look like an OpenSSH public key (ssh-rsa, ssh-ed25519, ecdsa-sha2-*)"
    try:
        blob = base64.b64decode(match["blob"], validate=True)
    except (binascii.Error, ValueError):
        return "the key's base64 part is damaged"
    # The blob starts with its own type as a length-prefixed string: catch pasted garbage.
    if blob[4 : 4 + len(match["type"])] != match["type"].encode():
        return f"the key's data does not match its type {match['type']!r}"
    return None


def _known_type(key_type: str) -> bool:
    return key_type in _KEY_TYPES or key_type.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-"))
