"""The files a run leaves behind (its log, its manifest): owner-only, and complete or absent.

Each is written under a temporary name in its final folder and renamed over the final name when complete, so
a reader — or a second run that was given the same `BRUIN_RUN_ID` — sees a whole file or none, never two runs
interleaved or a half-written manifest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


class PendingFile:
    """A file being written that appears at `path` only when `publish` is called."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._temp = _create_temporary(path)
        self.path = path
        self.handle: BinaryIO = os.fdopen(fd, "wb")

    def publish(self) -> None:
        """Close the file and put it in place (replacing an earlier one of the same name)."""
        self.handle.close()
        os.replace(self._temp, self.path)

    def discard(self) -> None:
        self.handle.close()
        self._temp.unlink(missing_ok=True)


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new owner-only file next to `path` under a random name, opened for writing: what `tempfile.mkstemp`
    does (exclusive creation, no symlink followed, mode 0600), without the modules tempfile imports."""
    for _ in range(100):
        temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.partial")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            return os.open(temp, flags, 0o600), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` (owner-only) so that no reader ever sees part of it."""
    pending = PendingFile(path)
    try:
        pending.handle.write(data)
    except BaseException:
        pending.discard()
        raise
    pending.publish()
