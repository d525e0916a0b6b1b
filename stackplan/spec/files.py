"""Files a spec names (public keys, user data): read relative to the spec, and checked.

Every file read is recorded, so the spec's digest changes when one of them does.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

NOVA_USER_DATA_LIMIT = 65535  # bytes, once base64-encoded (Nova's API limit)
_KEY_TYPES = ("ssh-rsa", "ssh-ed25519", "ssh-dss", "sk-ssh-ed25519@openssh.com")
_PUBLIC_KEY = re.compile(r"^(?P<type>[a-z0-9@.-]+)\s+(?P<blob>[A-Za-z0-9+/]+={0,2})(?:\s+.*)?$")


@dataclass(slots=True)
class FileReader:
    """Reads files relative to `base_dir` and remembers their bytes for the digest."""

    base_dir: Path
    read: dict[Path, bytes] = field(default_factory=dict)

    def read_text(self, name: str) -> str:
        """The file's text; raises `OSError`/`ValueError` with a message for the user."""
        path = (self.base_dir / Path(name).expanduser()).resolve()
        if path not in self.read:
            if not path.exists():
                raise OSError(f"file {name!r} does not exist (looked for {path})")
            if not path.is_file():
                raise OSError(f"{name!r} is not a file ({path})")
            self.read[path] = path.read_bytes()
        try:
            return self.read[path].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"file {name!r} is not UTF-8 text") from None

    def files(self) -> dict[str, bytes]:
        """Every file read, by its name relative to the spec (the same in every checkout)."""
        return {
            os.path.relpath(path, self.base_dir.resolve()).replace(os.sep, "/"): data
            for path, data in self.read.items()
        }


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


def user_data_problem(text: str) -> str | None:
    """Why Nova would refuse `text` as user data, or None."""
    size = len(base64.b64encode(text.encode("utf-8")))
    if size > NOVA_USER_DATA_LIMIT:
        return (
            f"user data is {size} bytes once base64-encoded; Nova accepts at most "
            f"{NOVA_USER_DATA_LIMIT}"
        )
    return None


def _known_type(key_type: str) -> bool:
    return key_type in _KEY_TYPES or key_type.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-"))
