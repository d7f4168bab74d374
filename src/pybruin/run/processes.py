"""Python and R assets as child processes: the command line, the interpreter, the streamed output."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.run.output import AssetStream

_READ_SIZE = 64 * 1024
_IMAGE_PYTHON = re.compile(r"^python:(3\.\d+)")
_READY_MARKER = ".pybruin-ready"
_PR_SET_DUMPABLE = 4


def find_requirements(asset_file: Path, project_root: Path) -> Path | None:
    """The nearest requirements.txt walking up from the asset to the project root."""
    root = project_root.resolve()
    directory = asset_file.resolve().parent
    while True:
        candidate = directory / "requirements.txt"
        if candidate.is_file():
            return candidate
        if directory == root or directory.parent == directory:
            return None
        directory = directory.parent


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

    def run(self, argv: list[str], *, env: Mapping[str, str], cwd: Path, stream: AssetStream) -> int:
        """Run a process with stdout and stderr merged into `stream`; returns the exit code."""
        process = self._start(argv, env=env, cwd=cwd)
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

    def _start(self, argv: list[str], *, env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
        if self._stopping:
            raise BruinError("the run was interrupted")
        if not self._sealed:
            seal_this_process()
            self._sealed = True
        try:
            process = subprocess.Popen(
                argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
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


class PythonEnvironments:
    """Interpreters for Python assets: ours when an asset needs nothing, a cached uv venv otherwise.

    A venv is keyed by the hash of its requirements file and Python version, created once per machine and
    shared by every run; a lock per key keeps concurrent assets from building the same one twice.
    """

    def __init__(self, cache_dir: Path, base_env: Mapping[str, str], children: ChildProcesses) -> None:
        self._cache_dir = cache_dir
        self._base_env = dict(base_env)
        self._children = children
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def interpreter(self, asset: Asset, project_root: Path, stream: AssetStream) -> str:
        requirements = find_requirements(asset.executable_file, project_root)
        if requirements is None:
            return sys.executable
        version = python_version(asset.image)
        digest = hashlib.sha256(requirements.read_bytes() + version.encode()).hexdigest()[:16]
        venv = self._cache_dir / f"py{version}-{digest}"
        with self._lock_for(digest):
            if not (venv / _READY_MARKER).exists():
                self._build(venv, version, requirements, project_root, stream)
        return str(venv / "bin" / "python")

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _build(self, venv: Path, version: str, requirements: Path, cwd: Path, stream: AssetStream) -> None:
        from uv import find_uv_bin

        uv = find_uv_bin()
        shutil.rmtree(venv, ignore_errors=True)
        steps = (
            [uv, "venv", "--quiet", "--python", version, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", str(requirements)],
        )
        for argv in steps:
            if self._children.run(argv, env=self._base_env, cwd=cwd, stream=stream) != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise BruinError(f"failed to set up a Python {version} environment for {requirements}")
        (venv / _READY_MARKER).touch()


def python_version(image: str | None) -> str:
    """`image: python:3.X` picks the version for uv-managed environments; ours otherwise."""
    match = _IMAGE_PYTHON.match(image or "")
    return match.group(1) if match else f"{sys.version_info.major}.{sys.version_info.minor}"


def rscript_path() -> str:
    path = shutil.which("Rscript")
    if path is None:
        raise BruinError(
            "R is not installed or not in PATH. Install R (e.g. `apt-get install r-base-core`) to run R assets."
        )
    return path
