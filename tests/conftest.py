"""Shared test setup: server fixtures from tests/fixtures, temporary Bruin projects, the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = sorted(
    f"fixtures.{p.stem}" for p in (Path(__file__).parent / "fixtures").glob("*.py") if p.stem != "__init__"
)

BRUIN = [sys.executable, "-m", "pybruin"]

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

    def bruin(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> Result:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
        full_env.update(env or {})
        done = subprocess.run(
            [*BRUIN, *args], cwd=self.root, env=full_env, capture_output=True, text=True, timeout=timeout
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def files_containing(self, needle: str) -> list[Path]:
        """Every file under the project whose bytes contain `needle` (for canary checks)."""
        hits = []
        for path in self.root.rglob("*"):
            if path.is_file() and ".git" not in path.parts and needle.encode() in path.read_bytes():
                hits.append(path)
        return hits


@pytest.fixture
def project(tmp_path: Path) -> BruinProject:
    return BruinProject(tmp_path / "project")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[str], BruinProject]:
    def make(name: str) -> BruinProject:
        return BruinProject(tmp_path / name)

    return make
