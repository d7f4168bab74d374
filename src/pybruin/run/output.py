"""Every byte a run prints goes through here: masked, prefixed, to the terminal and the run log."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pybruin.masking import Masker, strip_terminal_sequences
from pybruin.run.files import PendingFile

ADD_MASK_COMMAND = b"::add-mask::"
_MAX_PENDING_LINE = 64 * 1024
_LEADING_SPACE = re.compile(rb"\s*")
_ERASE_LINE = b"\r\x1b[2K"


class RunOutput:
    """The terminal and the run log, behind one lock and one masker.

    Assets write whole lines only, so concurrent assets never interleave inside a line.
    """

    def __init__(
        self,
        masker: Masker,
        terminal: BinaryIO,
        log_path: Path | None = None,
        *,
        timestamps: bool = True,
    ) -> None:
        self.masker = masker
        self._terminal = terminal
        self._timestamps = timestamps
        self._lock = threading.Lock()
        self._status = b""  # the progress line under the output, on a terminal only
        self._log = PendingFile(log_path) if log_path is not None else None

    def prefix(self, asset: str | None = None) -> bytes:
        parts = []
        if self._timestamps:
            parts.append(datetime.now().strftime("[%H:%M:%S] "))
        if asset is not None:
            parts.append(f"[{asset}] ")
        return "".join(parts).encode()

    def line(self, text: str, asset: str | None = None) -> None:
        """One message of pybruin's own (about `asset`, prefixed with its name), masked like everything else."""
        self.write_masked(self.prefix(asset) + self.masker.mask(text).encode() + b"\n")

    def block(self, text: str) -> None:
        """Pre-rendered text (the summary); masked, no prefix."""
        if text and not text.endswith("\n"):
            text += "\n"
        self.write_masked(self.masker.mask(text).encode())

    def write_masked(self, data: bytes) -> None:
        """Write bytes that have already been masked (in every view: colour codes cannot hide a secret);
        the run log gets them without escape sequences, as plain text."""
        with self._lock:
            shown = _ERASE_LINE + data + self._status if self._status else data
            self._terminal.write(shown)
            self._terminal.flush()
            if self._log is not None:
                self._log.handle.write(strip_terminal_sequences(data) if b"\x1b" in data else data)

    def status(self, text: str | None) -> None:
        """Show (or, with None, remove) a line below everything written; it never reaches the log."""
        with self._lock:
            self._status = self.masker.mask(text).encode() if text else b""
            self._terminal.write(_ERASE_LINE + self._status)
            self._terminal.flush()

    def asset_stream(self, asset: str) -> AssetStream:
        return AssetStream(self, asset)

    def close(self) -> None:
        """Put the run log in place, complete."""
        with self._lock:
            log, self._log = self._log, None
        if log is not None:
            log.publish()


class AssetStream:
    """One child process's output: `::add-mask::` lines taken out, the rest masked and prefixed.

    Raw bytes are cut at line ends first so an `::add-mask::` command is seen whole before anything of it
    could be printed; the masking stream then sees the remaining text as one continuous stream, so a
    secret spanning lines or writes is still caught.
    """

    def __init__(self, output: RunOutput, asset: str) -> None:
        self._output = output
        self._asset = asset
        self._raw = bytearray()
        self._masked = bytearray()
        self._masking = output.masker.stream()

    def feed(self, data: bytes) -> None:
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            self._raw += data
            if len(self._raw) >= _MAX_PENDING_LINE and not _may_be_add_mask(self._raw):
                complete = bytes(self._raw)
                self._raw.clear()
                self._pass_to_masking(complete)
            return
        # The common case, a piece ending in a line end with nothing pending, goes on without a copy.
        complete = data if cut == len(data) else data[:cut]
        if self._raw:
            complete = bytes(self._raw) + complete
            self._raw.clear()
        self._raw += data[cut:]
        self._pass_to_masking(complete)

    def close(self) -> None:
        if self._raw:
            self._pass_to_masking(bytes(self._raw) + b"\n")
            self._raw.clear()
        self._emit(self._masking.flush(), final=True)

    def _pass_to_masking(self, complete: bytes) -> None:
        if ADD_MASK_COMMAND in complete:
            complete = self._take_add_mask_commands(complete)
        self._emit(self._masking.feed(complete), final=False)

    def _take_add_mask_commands(self, complete: bytes) -> bytes:
        kept = []
        for line in complete.splitlines(keepends=True):
            stripped = line.strip()
            if stripped.startswith(ADD_MASK_COMMAND):
                # surrogateescape: the masker turns undecodable bytes back into the ones the process prints
                value = stripped[len(ADD_MASK_COMMAND) :].decode("utf-8", "surrogateescape")
                self._output.masker.protect(value, owner=f"asset '{self._asset}'", requested=True)
                continue
            kept.append(line)
        return b"".join(kept)

    def _emit(self, masked: bytes, *, final: bool) -> None:
        """Write the complete lines of what masking released; keep a partial last line for later."""
        if self._masked:
            self._masked += masked
            masked = bytes(self._masked)
            self._masked.clear()
        cut = masked.rfind(b"\n") + 1
        if final or (cut == 0 and len(masked) >= _MAX_PENDING_LINE):
            cut = len(masked)  # a line that never ends (a progress bar, say) is shown in pieces
        if cut < len(masked):
            self._masked += masked[cut:]
            masked = masked[:cut]
        if not masked:
            return
        if not masked.endswith(b"\n"):
            masked += b"\n"
        prefix = self._output.prefix(self._asset) + b">> "
        self._output.write_masked(prefix + masked[:-1].replace(b"\n", b"\n" + prefix) + b"\n")


def _may_be_add_mask(line: bytearray) -> bool:
    """Whether an unfinished line is (or may still become) an `::add-mask::` command: it is kept whole,
    however long, because printing any part of it would print part of the value it hides."""
    indent = _LEADING_SPACE.match(line)
    begins = indent.end() if indent else 0
    return ADD_MASK_COMMAND.startswith(bytes(line[begins : begins + len(ADD_MASK_COMMAND)]))
