"""Files a spec names (public keys, user data): read relative to the spec.

Every file read is recorded, so the spec's digest changes when one of them does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


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
