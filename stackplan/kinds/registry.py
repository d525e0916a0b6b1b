"""The kinds stackplan knows, by name."""

from __future__ import annotations

from stackplan.kinds.keypair import KeypairKind
from stackplan.kinds.server import ServerKind

KINDS = {"keypair": KeypairKind(), "server": ServerKind()}
