"""The spec once expanded: desired resources, unresolved or resolved, as frozen values.

Holds data only; loading, validation and expansion live beside it. Attributes are plain
JSON values (str, int, bool, list, dict) so that state and plan files can hold them.

Each kind documents its own attributes (`stackplan/kinds/`); `Desired` holds them as the
kind's `expand` made them, and `resolve` turns the names they give the cloud into IDs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackplan.addr import Address
from stackplan.frozen import frozen_map


@dataclass(frozen=True, slots=True)
class Lifecycle:
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DesiredResource:
    """One resource the spec asks for, at its expanded address."""

    address: Address
    attrs: Mapping[str, Any]
    depends_on: tuple[Address, ...] = ()  # explicit depends_on and implied by references
    lifecycle: Lifecycle = Lifecycle()
    where: str = ""  # `file:line:col` of the resource in the spec, for messages
    sensitive: tuple[str, ...] = ()  # attribute paths holding a sensitive value
    # What the resource's late attributes name: created before they are set, not before
    # the resource itself (so mutual references are no cycle).
    late_depends_on: tuple[Address, ...] = ()
    # `file:line:col` of each field's value, for messages about one field (a bad name).
    fields: Mapping[str, str] = field(default_factory=frozen_map)

    @property
    def kind(self) -> str:
        return self.address.kind

    def with_attrs(self, attrs: Mapping[str, Any]) -> DesiredResource:
        return replace(self, attrs=frozen_map(attrs))


@dataclass(frozen=True, slots=True)
class Desired:
    """The whole expanded spec: resources in address order, outputs, and where it came from."""

    stack: str
    spec_path: Path
    digest: str  # sha256 over the spec, the variable values and every file the spec read
    resources: tuple[DesiredResource, ...]
    outputs: Mapping[str, str] = field(default_factory=frozen_map)  # name -> "${...}" expression
    variables: Mapping[str, Any] = field(default_factory=frozen_map)
    sensitive_texts: tuple[str, ...] = ()  # what the sensitive variables' values read as
    sensitive_outputs: tuple[str, ...] = ()  # outputs built from a sensitive value
    backend: Mapping[str, Any] = field(default_factory=frozen_map)  # the spec's `backend:`

    def by_address(self) -> dict[Address, DesiredResource]:
        return {r.address: r for r in self.resources}

    def with_resources(self, resources: tuple[DesiredResource, ...]) -> Desired:
        return replace(self, resources=resources)
