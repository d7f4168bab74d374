"""pybruin.run.processes: starting an asset process and the descriptors it shares with pybruin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.run import processes
from pybruin.run.processes import ChildProcesses


def open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_process_that_cannot_start_leaves_no_pipe_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "seal_this_process", lambda: None)  # the test process stays as it is
    children = ChildProcesses()
    before = open_descriptors()
    for _ in range(3):
        with pytest.raises(BruinError, match="failed to start missing-python: No such file or directory"):
            children.run([str(tmp_path / "missing-python"), "-c", "pass"], env={}, cwd=tmp_path,
                         stream=None, pipe=b"secret-bytes")  # type: ignore[arg-type]  # fmt: skip
    assert open_descriptors() == before
