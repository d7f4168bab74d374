"""Python materialization, the run's side: starting the asset so that `materialize()`'s result comes back as
Arrow, and receiving it.

The asset runs under `arrow_child.py` in its own interpreter and writes an Arrow IPC stream into a pipe it
inherits (never its stdout, which is its log, and never a file). A thread here reads the stream while the
asset runs, so the asset never blocks on a full pipe; the data is kept in memory until the asset has exited
successfully, and only then loaded (a failed or interrupted asset writes nothing, and a DuckDB file the asset
itself may have open is opened by the run only afterwards).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset

if TYPE_CHECKING:
    import pyarrow as pa

CHILD_SCRIPT = Path(__file__).with_name("arrow_child.py")
#: Keep in step with `arrow_child.FD_VARIABLE` (that script cannot import pybruin).
FD_VARIABLE = "PYBRUIN_ARROW_FD"
_READ_BUFFER = 1 << 20


def materializes(asset: Asset) -> bool:
    """Whether a Python asset's `materialize()` result is loaded into its connection (upstream's trigger)."""
    return asset.type == "python" and bool(asset.materialization.get("type"))


def materialization_problem(asset: Asset) -> str | None:
    """Upstream's run-time refusals of a Python materialization, in its words."""
    if str(asset.materialization.get("type")).lower() != "table":
        return "only table materialization is supported for Python assets"
    if asset.materialization.get("incremental_predicate"):
        return "incremental_predicate is not supported for Python assets"
    return None


def child_script(asset: Asset, project_root: Path) -> list[str]:
    """What the asset's interpreter runs instead of its file: `arrow_child.py <asset file> <module>`; the
    module name is upstream's, the file's path from the project root with dots for separators."""
    file = asset.executable_file.resolve()
    try:
        module = ".".join(file.relative_to(project_root.resolve()).with_suffix("").parts)
    except ValueError:
        module = file.stem
    return [str(CHILD_SCRIPT), str(file), module]


class ArrowReceiver:
    """The pipe an asset writes its Arrow stream into, and the thread reading it.

    Give the child `write_fd` (and `environment()`), then call `finish()` once the child has exited: it closes
    our copy of the write end, so the reader sees the end of the stream; `result()` is what arrived.
    """

    def __init__(self) -> None:
        self._read_fd, self.write_fd = os.pipe()
        self._data: pa.Table | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._receive, name="arrow-receiver", daemon=True)
        self._thread.start()

    def environment(self) -> dict[str, str]:
        return {FD_VARIABLE: str(self.write_fd)}

    def finish(self) -> None:
        """Close our copy of the write end and wait for the reader: call it once the asset has exited."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1
        self._thread.join()

    def result(self) -> pa.Table | None:
        """The table the asset sent (after `finish`); None when it sent nothing (`materialize()` returned
        None or no rows at all)."""
        if self._error is not None:
            raise BruinError(self._error)
        return self._data

    def _receive(self) -> None:
        import pyarrow as pa

        with open(self._read_fd, "rb", buffering=_READ_BUFFER) as source:
            try:
                if source.peek(1):
                    self._data = pa.ipc.open_stream(source).read_all()
            except pa.ArrowException as exc:
                self._error = f"the data materialize() returned could not be read: {type(exc).__name__}"
            finally:
                while source.read(_READ_BUFFER):  # never leave the asset blocked on a full pipe
                    pass
