"""The live progress display of `bruin run` on a real terminal (a pseudo-terminal): assets done / running /
failed and the time elapsed, below the output, coloured unless `--no-color`; never when output is not a
terminal or with `--minimal-logs`."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

import pytest

from conftest import BRUIN

SGR = re.compile(rb"\x1b\[[0-9;]*m")
PROGRESS = re.compile(rb"0/2 done {2}1 running {2}0 failed {2}\d+:\d\d elapsed")

#: Waits (at most a minute) until the test has seen the progress line, so the run lasts exactly as long as needed.
WAITING = '''"""@bruin
name: slow
@bruin"""
import pathlib, time
for _ in range(600):
    if pathlib.Path("go").exists():
        break
    time.sleep(0.1)
print("slow done")
'''


@pytest.fixture
def slow(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/slow.py", WAITING)
    project.write("p/assets/after.py", '"""@bruin\nname: after\ndepends: [slow]\n@bruin"""\nprint("after")\n')
    return project


def run_on_a_terminal(project, *args: str, until: re.Pattern[bytes] | None) -> tuple[int, bytes]:
    """`bruin run` with a pseudo-terminal as stdout and stderr; once `until` shows up, the asset may finish."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_") and k != "NO_COLOR"}
    process = subprocess.Popen([*BRUIN, "run", "--no-log-file", *args, "p"], cwd=project.root, env=env,
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal's other side closed: the run is over
                    break
                if not chunk:
                    break
                seen += chunk
            if until is not None and until.search(seen) and not (project.root / "go").exists():
                (project.root / "go").write_text("")
        return process.wait(timeout=60), seen
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()


def test_a_long_run_shows_its_progress_on_a_terminal(slow):
    code, seen = run_on_a_terminal(slow, until=PROGRESS)
    assert code == 0, seen.decode()
    assert PROGRESS.search(SGR.sub(b"", seen)), seen
    assert SGR.search(seen), "coloured on a colour terminal"
    assert b"\r\x1b[2K" in seen, "the line is erased before output and at the end"
    assert b"PASS slow \r\n" in seen and b"bruin run completed successfully" in seen


def test_no_color_draws_it_plain(slow):
    code, seen = run_on_a_terminal(slow, "--no-color", until=PROGRESS)
    assert code == 0, seen.decode()
    assert PROGRESS.search(seen) and not SGR.search(seen), seen


def test_minimal_logs_and_pipes_show_none(slow):
    slow.write("p/assets/slow.py", '"""@bruin\nname: slow\n@bruin"""\nimport time\ntime.sleep(4)\n')
    code, seen = run_on_a_terminal(slow, "--minimal-logs", until=None)
    assert code == 0 and re.search(rb"\r\n\r\nExecuted 2 tasks in \S+\r\n$", seen), seen
    assert b"elapsed" not in seen and b"running" not in seen
    piped = slow.bruin("run", "--no-log-file", "p")
    assert piped.returncode == 0 and "elapsed" not in piped.output and "\x1b" not in piped.output
