"""The files a run leaves behind (its log, its manifest): owner-only, and complete or absent.

Each is written under a temporary name in its final folder and renamed over the final name when complete, so
a reader — or a second run that was given the same `BRUIN_RUN_ID` — sees a whole file or none, never two runs
interleaved or a half-written manifest.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO


class PendingFile:
    """A file being written that appears at `path` only when `publish` is called."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)  # mode 0600
        self.path = path
        self.handle: BinaryIO = os.fdopen(fd, "wb")
        self._temp = Path(temp)

    def publish(self) -> None:
        """Close the file and put it in place (replacing an earlier one of the same name)."""
        self.handle.close()
        os.replace(self._temp, self.path)

    def discard(self) -> None:
        self.handle.close()
        self._temp.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` (owner-only) so that no reader ever sees part of it."""
    pending = PendingFile(path)
    try:
        pending.handle.write(data)
    except BaseException:
        pending.discard()
        raise
    pending.publish()
