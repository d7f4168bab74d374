"""Interpreters for Python assets: ours when an asset needs nothing, otherwise a uv environment built from what
defines it and shared by every run on the machine.

What defines an environment is found as upstream finds it, walking up from the asset to the project root: the
nearest `requirements.txt` anywhere on the way wins; else the nearest `pyproject.toml` (with its `uv.lock`,
installed exactly as locked, when one sits next to it). The Python version is the asset's `image:
python:3.X`, else the lowest version `requires-python` allows that is installed here, else ours. Interpreters
are looked up on the machine and handed to uv by their exact path; none is ever downloaded.

An environment lives in the cache under a name made of the version and a hash of everything that defines it
(the files' bytes, the interpreter, what pybruin adds), so a changed file gets a new environment and an
unchanged one is never rebuilt. Building takes a lock file shared by every `bruin run` process, and a ready
marker is written last: an environment without one is half-built (a crash, a kill) and is rebuilt under the
lock, never used. A build first installs from uv's cache alone and asks the index only for what the cache
lacks (so an unpinned requirement may get the newest version the cache holds). Assets write the bytecode of
what they import into the environment as they go; when `PYTHONDONTWRITEBYTECODE` forbids them to, the build
compiles all of it instead, so no run recompiles its imports. A warm run checks the marker and starts the
asset: no uv, no index, no network.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.records import Record
from pybruin.run.output import AssetStream
from pybruin.run.processes import ChildProcesses

#: The versions `image: python:3.X` may name and `requires-python` is resolved against (upstream's list).
PYTHON_VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
#: What a materializing asset's environment gets besides its own dependencies, to write Arrow.
ARROW_REQUIREMENT = "pyarrow>=14"
READY_MARKER = ".pybruin-ready"
#: How pybruin builds an environment; part of its name, so a change to the recipe never reuses an old build.
BUILD_RECIPE = "2"

_IMAGE_PYTHON = re.compile(r"^python:(3\.\d+)$")
_SPECIFIER = re.compile(r"^(>=|<=|!=|~=|==|>|<)?\s*(\d+)\.(\d+)(?:\.\d+|\.\*)?$")
#: Never let uv fetch an interpreter, whatever the user's configuration says.
_NO_DOWNLOADS = {"UV_PYTHON_DOWNLOADS": "never"}


class Dependencies(Record):
    """What an asset's environment is built from: a requirements file, or a project (and its lock)."""

    kind: Literal["requirements", "pyproject"]
    file: Path
    lock: Path | None = None

    @property
    def directory(self) -> Path:
        return self.file.parent

    def requires_python(self) -> str:
        """The project's `requires-python`, or "" (requirements files have none; unreadable TOML has none)."""
        if self.kind != "pyproject":
            return ""
        import tomllib  # like hashlib and shutil below: only for assets with an environment of their own

        try:
            project = tomllib.loads(self.file.read_text(encoding="utf-8")).get("project")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return ""
        value = project.get("requires-python") if isinstance(project, dict) else None
        return value if isinstance(value, str) else ""


def find_dependencies(asset_file: Path, project_root: Path) -> Dependencies | None:
    """The nearest `requirements.txt` walking up from the asset to the project root, else the nearest
    `pyproject.toml` (with the `uv.lock` beside it, if any); None when neither exists."""
    folders = list(_folders_up(asset_file.resolve().parent, project_root.resolve()))
    for folder in folders:
        if (folder / "requirements.txt").is_file():
            return Dependencies("requirements", folder / "requirements.txt")
    for folder in folders:
        if (folder / "pyproject.toml").is_file():
            lock = folder / "uv.lock"
            return Dependencies("pyproject", folder / "pyproject.toml", lock if lock.is_file() else None)
    return None


def _folders_up(start: Path, root: Path) -> Iterator[Path]:
    folder = start
    while True:
        yield folder
        if folder == root or folder.parent == folder:
            return
        folder = folder.parent


def image_version(image: str | None) -> str | None:
    """`image: python:3.X` → "3.X" for the versions upstream knows; None for anything else."""
    match = _IMAGE_PYTHON.match(image or "")
    return match.group(1) if match and match.group(1) in PYTHON_VERSIONS else None


def own_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def satisfies(version: str, requires_python: str) -> bool | None:
    """Whether "3.X" meets every comma-separated clause of `requires_python`; None when a clause is not one
    of the forms upstream reads (`>=3.11`, `<3.13`, `==3.12.*`, `~=3.11`, `3.12`), as upstream then ignores it."""
    major, minor = map(int, version.split("."))
    for clause in filter(None, (part.strip() for part in requires_python.split(","))):
        match = _SPECIFIER.match(clause)
        if match is None:
            return None
        op, wanted = match.group(1) or "==", (int(match.group(2)), int(match.group(3)))
        have = (major, minor)
        ok = {
            ">=": have >= wanted, ">": have > wanted, "<=": have <= wanted, "<": have < wanted,
            "==": have == wanted, "!=": have != wanted, "~=": have >= wanted and major == wanted[0],
        }[op]  # fmt: skip
        if not ok:
            return False
    return True


def find_interpreter(version: str, env: Mapping[str, str]) -> str | None:
    """The exact path of a Python `version` on this machine, looked up without running anything: ours; else
    the first `python3.X` on `env`'s PATH, except a shim script (pyenv's fails when its version is not the
    selected one, so that pyenv's installations are looked in instead); else the newest 3.X that pyenv
    (`PYENV_ROOT`, `~/.pyenv`) or uv (`uv python install`) has installed."""
    if version == own_version():
        return getattr(sys, "_base_executable", None) or sys.executable
    name = f"python{version}"
    for folder in filter(None, env.get("PATH", "").split(os.pathsep)):
        candidate = Path(folder) / name
        if not candidate.is_file() or not os.access(candidate, os.X_OK):
            continue
        if candidate.parent.name != "shims" or not _is_script(candidate):
            return str(candidate)
        behind_shim = _installed(candidate.parent.parent / "versions", version, "", name)
        if behind_shim is not None:
            return str(behind_shim)
    home = env.get("HOME")
    data_home = env.get("XDG_DATA_HOME") or (f"{home}/.local/share" if home else "")
    roots = [
        (env.get("PYENV_ROOT") and f"{env['PYENV_ROOT']}/versions", ""),
        (home and f"{home}/.pyenv/versions", ""),
        (env.get("UV_PYTHON_INSTALL_DIR") or (data_home and f"{data_home}/uv/python"), "cpython-"),
    ]
    for root, prefix in roots:
        python = _installed(Path(root), version, prefix, name) if root else None
        if python is not None:
            return str(python)
    return None


def _is_script(file: Path) -> bool:
    """Whether an executable is a `#!` script rather than an interpreter binary."""
    try:
        with file.open("rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return True


def _installed(root: Path, version: str, prefix: str, name: str) -> Path | None:
    """The newest `<root>/<prefix>3.X.<patch>[-platform]/bin/python3.X` (pyenv's and uv's layouts; free-threaded
    and other variant builds are left out)."""
    pattern = re.compile(rf"^{re.escape(prefix + version)}\.(\d+)(-[a-z0-9_]+)*$")
    candidates = []
    with suppress(OSError):
        for entry in root.iterdir():
            match = pattern.match(entry.name)
            python = entry / "bin" / name
            if match and python.is_file() and os.access(python, os.X_OK):
                candidates.append((int(match.group(1)), python))
    return max(candidates)[1] if candidates else None


class Environment(Record):
    """One cached environment: where it lives, its build lock, and what it is built from."""

    path: Path
    lock: Path
    version: str
    base: str
    dependencies: Dependencies | None
    extras: tuple[str, ...]

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def ready(self) -> bool:
        return (self.path / READY_MARKER).exists()


class PythonEnvironments:
    """Interpreters for Python assets (see the module docstring): `interpreter` answers for one asset."""

    def __init__(
        self, cache_dir: Path, base_env: Mapping[str, str], children: ChildProcesses,
        say: Callable[[str, str], None] = lambda text, asset: None,
    ) -> None:  # fmt: skip
        """`say(text, asset)` tells the user something about an asset's environment (the run's output)."""
        self._cache_dir = cache_dir
        self._locks_dir = cache_dir.parent / f"{cache_dir.name}-locks"
        self._base_env = {**base_env, **_NO_DOWNLOADS}
        self._children = children
        self._say = say

    def interpreter(self, asset: Asset, project_root: Path, stream: AssetStream, *, arrow: bool = False) -> str:
        """The interpreter that runs `asset`, building its environment first if no run has yet; `arrow`
        adds pyarrow (for `materialize()`) to an environment that may not have it."""
        environment = self.environment(asset, project_root, arrow=arrow)
        if environment is None:
            return sys.executable  # ours has pyarrow
        if not environment.ready:
            with self._building(environment, asset.name):
                if not environment.ready:
                    self._build(environment, project_root, stream)
        return str(environment.python)

    def environment(self, asset: Asset, project_root: Path, *, arrow: bool = False) -> Environment | None:
        """The environment `asset` runs in, built or not; None when it runs in ours."""
        dependencies = find_dependencies(asset.executable_file, project_root)
        version = self._version(asset, dependencies)
        if dependencies is None and version == own_version():
            return None
        base = find_interpreter(version, self._base_env)
        if base is None:
            raise BruinError(
                f"Python {version} is not installed on this machine (pybruin does not download interpreters); "
                f"install python{version} or change the asset's image"
            )
        extras = (ARROW_REQUIREMENT,) if arrow else ()
        name = f"py{version}-{_digest(dependencies, base, extras)}"
        return Environment(self._cache_dir / name, self._locks_dir / f"{name}.lock", version, base, dependencies,
                           extras)  # fmt: skip

    def working_directory(self, asset: Asset, project_root: Path) -> Path:
        """Where the asset runs: its project's folder when a `pyproject.toml` defines its environment (as
        upstream runs `uv run` there), else the project root."""
        dependencies = find_dependencies(asset.executable_file, project_root)
        return dependencies.directory if dependencies and dependencies.kind == "pyproject" else project_root

    def _version(self, asset: Asset, dependencies: Dependencies | None) -> str:
        pinned = image_version(asset.image)
        if pinned:
            return pinned
        requires = dependencies.requires_python() if dependencies else ""
        if not requires or satisfies(own_version(), requires) is None:
            return own_version()
        for version in PYTHON_VERSIONS:
            if satisfies(version, requires) and find_interpreter(version, self._base_env):
                return version
        assert dependencies is not None
        raise BruinError(
            f"no Python installed on this machine satisfies requires-python '{requires}' in {dependencies.file} "
            "(pybruin does not download interpreters)"
        )

    @contextmanager
    def _building(self, environment: Environment, asset_name: str) -> Iterator[None]:
        """The environment's build lock, held across processes; says so when another run holds it."""
        from filelock import FileLock, Timeout

        environment.lock.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(environment.lock)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            self._say("waiting for another run building the same Python environment...", asset_name)
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def _build(self, environment: Environment, cwd: Path, stream: AssetStream) -> None:
        import shutil

        from uv import find_uv_bin

        uv = find_uv_bin()
        venv, dependencies = environment.path, environment.dependencies
        python = str(environment.python)
        # Assets that may not write bytecode would compile every module they import on every run.
        compiled = ["--compile-bytecode"] if self._base_env.get("PYTHONDONTWRITEBYTECODE") else []
        shutil.rmtree(venv, ignore_errors=True)  # half-built by a run that died: we hold the lock now
        # (command, extra environment, whether to try it offline first)
        steps: list[tuple[list[str], Mapping[str, str], bool]] = [
            ([uv, "venv", "--quiet", "--no-python-downloads", "--python", environment.base, str(venv)], {}, False)
        ]
        if dependencies is not None and dependencies.lock is not None:  # exactly as locked, never re-resolved
            sync = [uv, "sync", "--quiet", "--frozen", "--no-install-project", *compiled, "--project",
                    str(dependencies.directory), "--python", python]  # fmt: skip
            steps.append((sync, {"UV_PROJECT_ENVIRONMENT": str(venv)}, True))
        unlocked = dependencies is not None and dependencies.lock is None
        install = [*(["-r", str(dependencies.file)] if unlocked and dependencies else []), *environment.extras]
        if install:
            steps.append(([uv, "pip", "install", "--quiet", *compiled, "--python", python, *install], {}, True))
        for argv, extra_env, cached_first in steps:
            env = {**self._base_env, **extra_env}
            # What uv's cache already holds installs without asking the index (a round trip that costs more than
            # the install); only what it lacks needs the network, and then that attempt's complaints are dropped.
            if cached_first and self._children.run([*argv, "--offline"], env=env, cwd=cwd, stream=_DISCARD) == 0:
                continue
            if self._children.run(argv, env=env, cwd=cwd, stream=stream) != 0:
                shutil.rmtree(venv, ignore_errors=True)
                what = f" for {dependencies.file}" if dependencies else ""
                raise BruinError(f"failed to set up a Python {environment.version} environment{what}")
        (venv / READY_MARKER).touch()


class _Discard:
    """An output stream that drops what it is fed."""

    def feed(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


_DISCARD: AssetStream = _Discard()  # type: ignore[assignment]


def _digest(dependencies: Dependencies | None, base: str, extras: tuple[str, ...]) -> str:
    """What defines an environment, hashed: the dependency files' bytes, the interpreter, how pybruin builds it
    and what it adds."""
    import hashlib

    digest = hashlib.sha256()
    for part in (
        dependencies.kind if dependencies else "none",
        dependencies.file.read_bytes() if dependencies else b"",
        dependencies.lock.read_bytes() if dependencies and dependencies.lock else b"",
        os.path.realpath(base),
        BUILD_RECIPE,
        *extras,
    ):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
