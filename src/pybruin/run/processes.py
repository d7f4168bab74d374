"""Python and R assets as child processes: the command line, the interpreter, the streamed output."""

from __future__ import annotations

import math
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from contextlib import nullcontext, suppress
from pathlib import Path

from pybruin.errors import BruinError
from pybruin.run.bootstrap import NON_DUMPABLE, SECRETS_FD_VARIABLE
from pybruin.run.cancel import Cancellation
from pybruin.run.output import AssetStream

_READ_SIZE = 64 * 1024


class ChildProcesses:
    """The processes a run starts, each in its own process group, so that stopping one ends all it started.

    A process is stopped (its timeout, or the run interrupted) with SIGTERM to its whole group, then SIGKILL
    after a grace period; when it ends, whatever it left behind in its group is killed too, so no process of
    the run outlives it holding its secrets. Its output is read until the pipe closes, or for at most
    `DRAIN_SECONDS` after it exited: a background child that keeps the pipe open cannot hold the run.
    Secrets travel only in a process's environment, never in its command line.
    """

    #: How long a stopped process group may take to exit after SIGTERM before it is killed.
    GRACE_SECONDS = 5.0
    #: How long output is still read after a process exited while something it started holds the pipe.
    DRAIN_SECONDS = 2.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[_Group] = set()
        self._stopping = False
        self._sealed = False

    def run(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        stream: AssetStream,
        cancellation: Cancellation | None = None,
        pipe: bytes | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> int:
        """Run a process with stdout and stderr merged into `stream`; returns the exit code (negative: the
        signal that ended it). `cancellation` stops the process group. `pipe` is written to a pipe the process
        inherits, named by `SECRETS_FD_VARIABLE`: what the Python bootstrap reads (`bootstrap.python_launch`),
        secret variables that never enter its environment block among it. `pass_fds` are other descriptors the
        process inherits (a materializing asset's Arrow pipe)."""
        group = self._start(argv, env=env, cwd=cwd, pipe=pipe, pass_fds=pass_fds)
        try:
            with cancellation.on_cancel(group.terminate) if cancellation else nullcontext():
                group.pump(stream, grace=self.GRACE_SECONDS, drain=self.DRAIN_SECONDS)
        finally:
            group.finish()
            with self._lock:
                self._live.discard(group)
        return group.process.returncode

    def stop(self) -> None:
        """Refuse later starts and stop every running process group (SIGTERM, SIGKILL after the grace period)."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for group in live:
            group.terminate()

    def _start(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        pipe: bytes | None,
        pass_fds: tuple[int, ...],
    ) -> _Group:
        if self._stopping:
            raise BruinError("the run was interrupted")
        if not self._sealed:
            seal_this_process()
            self._sealed = True
        environment = dict(env)
        reader = writer = -1
        if pipe is not None:
            reader, writer = os.pipe()
            environment[SECRETS_FD_VARIABLE] = str(reader)
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,
                pass_fds=(*pass_fds, reader) if pipe is not None else pass_fds,
            )
        except OSError as exc:
            if pipe is not None:
                os.close(writer)
            raise BruinError(f"failed to start {Path(argv[0]).name}: {exc.strerror}") from None
        finally:
            if pipe is not None:
                os.close(reader)
        if pipe is not None:
            _send_and_close(writer, pipe)
        group = _Group(process)
        with self._lock:
            self._live.add(group)
            interrupted = self._stopping
        if interrupted:  # stop() ran while this process was being started
            group.terminate()
        return group


class _Group:
    """One started process, leader of its own process group, and the reading of its output.

    The leader is reaped only after its group was killed: until then its pid, which is the group's id,
    cannot be given to another process, so signalling the group never reaches a stranger.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self._terminated_at: float | None = None
        self._lock = threading.Lock()

    def terminate(self) -> None:
        """SIGTERM to the whole group; `pump` escalates to SIGKILL after the grace period. Idempotent."""
        with self._lock:
            if self._terminated_at is not None:
                return
            self._terminated_at = time.monotonic()
        self._signal(signal.SIGTERM)

    def pump(self, stream: AssetStream, *, grace: float, drain: float) -> None:
        """Feed the output to `stream` until the pipe closes and the leader exited (or the drain ran out)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        exit_fd = _exit_fd(self.process.pid)
        if exit_fd is not None:
            poller.register(exit_fd, select.POLLIN)
        reading, exited_at = True, None
        try:
            while reading or exited_at is None:
                now = time.monotonic()
                if exited_at is None and self._exited():
                    exited_at = now
                waits = [] if exit_fd is not None or exited_at is not None else [_EXIT_POLL_SECONDS]
                if exited_at is not None:
                    if now >= exited_at + drain:
                        break
                    waits.append(exited_at + drain - now)
                elif self._terminated_at is not None:
                    kill_at = self._terminated_at + grace
                    if now >= kill_at:
                        self._signal(signal.SIGKILL)
                    else:
                        waits.append(kill_at - now)
                timeout = min(waits) if waits else None
                for ready, _ in poller.poll(None if timeout is None else max(1, math.ceil(timeout * 1000))):
                    if ready == fd:
                        chunk = os.read(fd, _READ_SIZE)
                        if chunk:
                            stream.feed(chunk)
                        else:
                            reading = False
                            poller.unregister(fd)
                    elif ready == exit_fd and exited_at is None:
                        exited_at = time.monotonic()
                        poller.unregister(exit_fd)
        finally:
            if exit_fd is not None:
                os.close(exit_fd)

    def finish(self) -> None:
        """Kill what is left of the group, close the pipe and reap the leader."""
        self._signal(signal.SIGKILL)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process.wait()

    def _exited(self) -> bool:
        """Whether the leader has exited, without reaping it."""
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def _signal(self, signum: int) -> None:
        if self.process.returncode is not None:  # reaped: the group id may belong to someone else now
            return
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def _send_and_close(fd: int, payload: bytes) -> None:
    """Write `payload` to a pipe and close it; on a thread when it may not fit the pipe at once."""

    def send() -> None:
        try:
            with open(fd, "wb") as pipe:
                pipe.write(payload)
        except BrokenPipeError:  # the process ended before reading: it failed on its own
            pass

    if len(payload) < _PIPE_FITS:
        send()
    else:
        threading.Thread(target=send, name="secrets-pipe", daemon=True).start()


#: What a pipe takes without a reader (Linux gives 64 KiB); larger payloads are written from a thread.
_PIPE_FITS = 60 * 1024

#: Without a pidfd (Linux before 5.3), how often a running process is checked for having exited.
_EXIT_POLL_SECONDS = 0.1


def _exit_fd(pid: int) -> int | None:
    """A descriptor that becomes readable when process `pid` exits (a pidfd), where the system has one."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def seal_this_process() -> None:
    """Keep processes of the same user, such as the assets we start, out of our environment and memory.

    Assets are denied pybruin's own credentials (a backend token, the variables `${VAR}` placeholders
    read), but by default any process of the same user may read them back from
    `/proc/<our pid>/environ`. A non-dumpable process's /proc files belong to root (Linux
    `PR_SET_DUMPABLE`); the assets themselves are dumpable again once they exec. Elsewhere this does nothing.
    """
    exec(NON_DUMPABLE, {})  # the bootstrap's own call: `_ctypes` costs a fraction of importing `ctypes`


def rscript_path() -> str:
    import shutil

    path = shutil.which("Rscript")
    if path is None:
        raise BruinError(
            "R is not installed or not in PATH. Install R (e.g. `apt-get install r-base-core`) to run R assets."
        )
    return path
