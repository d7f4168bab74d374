"""The live progress line: drawn below the output on a terminal, erased before each write, never logged."""

from __future__ import annotations

import io
from pathlib import Path

from pybruin.masking import Masker
from pybruin.run.output import RunOutput
from pybruin.run.progress import Progress


class Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def test_the_status_line_stays_below_the_output_and_out_of_the_log(tmp_path: Path):
    terminal = Terminal()
    log = tmp_path / "run.log"
    output = RunOutput(Masker(["secret-value-1"]), terminal, log, timestamps=False)
    output.status("● 1/3 done secret-value-1")
    output.line("Running:  a")
    output.status(None)
    output.close()
    assert terminal.getvalue() == (
        b"\r\x1b[2K\xe2\x97\x8f 1/3 done ****" + b"\r\x1b[2KRunning:  a\n\xe2\x97\x8f 1/3 done ****" + b"\r\x1b[2K"
    )
    assert log.read_bytes() == b"Running:  a\n"


def test_the_counts_it_shows():
    progress = Progress(3)
    progress.started()
    progress.started()
    progress.settled(True, False)
    progress.settled(False, True)  # refused before it started
    line = progress.line()
    assert "2/3 done" in line and "1 running" in line and "1 failed" in line and "elapsed" in line
