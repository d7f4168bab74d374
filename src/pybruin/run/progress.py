"""The live progress line on a terminal: assets done, running and failed, and the time elapsed.

It appears only once a run has taken a few seconds, sits below the streamed output (`RunOutput` clears it
before each write and draws it again after), and is never written to the run log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SHOW_AFTER_SECONDS = 3.0
REFRESH_SECONDS = 0.5


class Progress:
    """Counts the runner reports; `attach` starts redrawing through `draw` (a `RunOutput.status`)."""

    def __init__(self, total: int, *, color: bool = True) -> None:
        self.total = total
        self.color = color
        self.done = 0
        self.running = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def started(self) -> None:
        with self._lock:
            self.running += 1

    def settled(self, started: bool, failed: bool) -> None:
        with self._lock:
            self.running -= 1 if started else 0
            self.done += 1
            self.failed += 1 if failed else 0

    def attach(self, draw: Callable[[str | None], None]) -> None:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, args=(draw,), name="progress", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def line(self) -> str:
        """The status text, styled with rich for the terminal (plain with `--no-color`)."""
        from rich.console import Console
        from rich.text import Text

        elapsed = int(time.monotonic() - self._started)
        with self._lock:
            done, running, failed = self.done, self.running, self.failed
        text = Text.assemble(
            ("● ", "cyan"),
            (f"{done}/{self.total} done", "bold"),
            "  ",
            (f"{running} running", "yellow"),
            "  ",
            (f"{failed} failed", "red" if failed else "dim"),
            "  ",
            (f"{elapsed // 60}:{elapsed % 60:02d} elapsed", "dim"),
        )
        if not self.color:
            return text.plain
        console = Console(force_terminal=True, width=200, highlight=False)
        with console.capture() as captured:
            console.print(text, end="")
        return captured.get()

    def _loop(self, draw: Callable[[str | None], None]) -> None:
        if self._stop.wait(SHOW_AFTER_SECONDS):
            return
        while not self._stop.is_set():
            draw(self.line())
            self._stop.wait(REFRESH_SECONDS)
        draw(None)
