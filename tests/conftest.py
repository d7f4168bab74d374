"""Shared test setup: server fixtures from tests/fixtures, temporary Bruin projects, the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = sorted(
    f"fixtures.{p.stem}" for p in (Path(__file__).parent / "fixtures").glob("*.py") if p.stem != "__init__"
)

BRUIN = [sys.executable, "-m", "pybruin"]
EMPTY_CONFIG = "environments:\n  default:\n    connections: {}\n"
GOOD_ASSET = '"""@bruin\nname: a\n@bruin"""\nprint("a")\n'

#: A Python asset receiving secret `API_KEY` and connection `pg`: writes the digest of both values to `out/digest`
#: (so no value ever reaches a file) and prints the key, which must show masked. Append checks of its own.
DIGEST_READER = '''"""@bruin
name: reader
secrets:
  - key: API_KEY
  - key: pg
@bruin"""
import hashlib, json, os, pathlib
pathlib.Path("out").mkdir(exist_ok=True)
pg = json.loads(os.environ["pg"])
pathlib.Path("out/digest").write_text(hashlib.sha256((os.environ["API_KEY"] + pg["password"]).encode()).hexdigest())
print("api key:", os.environ["API_KEY"])
'''

#: Upstream Bruin's checkout, whose own expectation files `tests/upstream/` compares pybruin with: those
#: tests are collected only where it exists (collected or not — never skipped).
UPSTREAM_CHECKOUT = Path("/work/upstream/bruin/integration-tests")
collect_ignore_glob = [] if UPSTREAM_CHECKOUT.is_dir() else ["upstream/*"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI=true nothing may skip: a skipped test is reported as failed."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI", "").lower() == "true" and call.when in ("setup", "call"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class BruinProject:
    """A temporary git work tree holding a Bruin project, and a way to run `bruin` in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        subprocess.run(["git", "init", "-q", str(root)], check=True)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def bruin(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120, stdin: str | None = None
    ) -> Result:
        """Run `bruin` here; its stdin is `stdin` (a pipe), or nothing."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
        full_env.update(env or {})
        done = subprocess.run(
            [*BRUIN, *args],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def run_json(self, *args: str) -> tuple[Result, dict[str, dict]]:
        """`bruin run -o json ...`: the result, and every task (assets and checks) by name from the manifest."""
        result = self.bruin("run", "-o", "json", *args)
        try:
            assets = json.loads(result.stdout)["assets"]
        except (json.JSONDecodeError, KeyError):
            pytest.fail(f"no run manifest on stdout (exit {result.returncode}):\n{result.output}")
        tasks = {asset["name"]: asset for asset in assets}
        tasks.update({check["name"]: check for asset in assets for check in asset["checks"]})
        return result, tasks

    def spawn(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """`bruin` started in a session of its own, so a test can signal it or its process group; output piped."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
        full_env.update(env or {})
        return subprocess.Popen(
            [*BRUIN, *args],
            cwd=self.root,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def wait_for_text(self, relative: str, process: subprocess.Popen[str], timeout: float = 60) -> str:
        """The text of a file an asset writes, once it is there and not empty, while `process` still runs."""
        path = self.root / relative
        deadline = time.monotonic() + timeout
        while not (path.exists() and path.read_text()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"{relative} was not written within {timeout}s"
            time.sleep(0.05)
        return path.read_text()

    def files_containing(self, needle: str) -> list[Path]:
        """Every file under the project whose bytes contain `needle` (for canary checks)."""
        hits = []
        for path in self.root.rglob("*"):
            if path.is_file() and ".git" not in path.parts and needle.encode() in path.read_bytes():
                hits.append(path)
        return hits


def processes_with(marker: str) -> list[int]:
    """The live processes whose environment holds `marker` (tests run as root, so every environ is readable).

    A run's processes inherit the variables of `bruin run`, so a unique one given to it finds every process
    it (or an asset of it) started, whatever process group or session they moved to.
    """
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Bad input: exit 1, no traceback, one line on stderr holding every fragment."""
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]


@pytest.fixture
def project(tmp_path: Path) -> BruinProject:
    return BruinProject(tmp_path / "project")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[str], BruinProject]:
    def make(name: str) -> BruinProject:
        return BruinProject(tmp_path / name)

    return make
