"""Python and R assets as child processes: starting them, streaming their output, stopping them (their
interpreters: `pybruin.run.python_envs`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from pybruin.errors import BruinError
from pybruin.run.output import AssetStream

_READ_SIZE = 64 * 1024
_PR_SET_DUMPABLE = 4


class ChildProcesses:
    """The processes a run starts, so that an interrupted run ends them instead of waiting for them.

    Secrets travel only in a process's environment, never in its command line.
    """

    #: How long an interrupted process may take to exit after SIGTERM before it is killed.
    GRACE_SECONDS = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._stopping = False
        self._sealed = False

    def run(
        self, argv: list[str], *, env: Mapping[str, str], cwd: Path, stream: AssetStream, pass_fds: tuple[int, ...] = ()
    ) -> int:
        """Run a process with stdout and stderr merged into `stream`; returns the exit code. `pass_fds` are
        descriptors the process inherits (a materializing asset's Arrow pipe)."""
        process = self._start(argv, env=env, cwd=cwd, pass_fds=pass_fds)
        assert process.stdout is not None
        fd = process.stdout.fileno()
        try:
            with process:  # closes the pipe and reaps the process, however streaming ends
                try:
                    while chunk := os.read(fd, _READ_SIZE):
                        stream.feed(chunk)
                except BaseException:
                    process.kill()
                    raise
        finally:
            with self._lock:
                self._live.discard(process)
        return process.returncode

    def stop(self) -> None:
        """End every running process (SIGTERM, then SIGKILL after a grace period); later starts are refused."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for process in live:
            process.terminate()
        deadline = time.monotonic() + self.GRACE_SECONDS
        for process in live:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    def _start(
        self, argv: list[str], *, env: Mapping[str, str], cwd: Path, pass_fds: tuple[int, ...]
    ) -> subprocess.Popen[bytes]:
        if self._stopping:
            raise BruinError("the run was interrupted")
        if not self._sealed:
            seal_this_process()
            self._sealed = True
        try:
            process = subprocess.Popen(
                argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=pass_fds,
            )  # fmt: skip
        except OSError as exc:
            raise BruinError(f"failed to start {Path(argv[0]).name}: {exc.strerror}") from None
        with self._lock:
            self._live.add(process)
            interrupted = self._stopping
        if interrupted:  # stop() ran while this process was being started
            process.terminate()
        return process


def seal_this_process() -> None:
    """Keep processes of the same user, such as the assets we start, out of our environment and memory.

    Assets are denied pybruin's own credentials (a backend token, the variables `${VAR}` placeholders
    read), but by default any process of the same user may read them back from
    `/proc/<our pid>/environ`. A non-dumpable process's /proc files belong to root (Linux
    `PR_SET_DUMPABLE`); the assets themselves are dumpable again once they exec. Elsewhere this does nothing.
    """
    if sys.platform != "linux":
        return
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def rscript_path() -> str:
    path = shutil.which("Rscript")
    if path is None:
        raise BruinError(
            "R is not installed or not in PATH. Install R (e.g. `apt-get install r-base-core`) to run R assets."
        )
    return path
