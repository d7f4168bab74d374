"""Which environment a Python asset runs in: the dependency file found walking up, the Python version from
`image:` or `requires-python`, and clear refusals instead of downloading an interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.run.processes import ChildProcesses
from pybruin.run.python_envs import (
    PythonEnvironments,
    find_dependencies,
    find_interpreter,
    image_version,
    own_version,
    satisfies,
)


def write(root: Path, relative: str, text: str = "") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_requirements_file_anywhere_up_wins_over_a_nearer_pyproject(tmp_path: Path) -> None:
    asset = write(tmp_path, "p/assets/sub/a.py")
    write(tmp_path, "p/assets/sub/pyproject.toml")
    write(tmp_path, "p/requirements.txt")
    found = find_dependencies(asset, tmp_path)
    assert found is not None and (found.kind, found.file) == ("requirements", tmp_path / "p/requirements.txt")


def test_the_nearest_pyproject_and_its_lock(tmp_path: Path) -> None:
    asset = write(tmp_path, "p/assets/sub/a.py")
    write(tmp_path, "p/pyproject.toml", '[project]\nname = "x"\nrequires-python = ">=3.11"\n')
    write(tmp_path, "pyproject.toml")
    found = find_dependencies(asset, tmp_path)
    assert found is not None
    assert (found.kind, found.file, found.lock) == ("pyproject", tmp_path / "p/pyproject.toml", None)
    assert found.requires_python() == ">=3.11"
    write(tmp_path, "p/uv.lock")
    assert find_dependencies(asset, tmp_path).lock == tmp_path / "p/uv.lock"


def test_nothing_above_the_project_root_counts(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt")
    assert find_dependencies(write(tmp_path, "root/p/a.py"), tmp_path / "root") is None


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("3.11", ">=3.11", True), ("3.10", ">=3.11", False), ("3.12", ">=3.11,<3.13", True),
        ("3.13", ">=3.11, <3.13", False), ("3.12", "==3.12.*", True), ("3.12", "~=3.11", True),
        ("3.12", "3.12", True), ("3.11", "!=3.11", False), ("3.11", ">=3.11.4", True), ("3.11", "weird", None),
    ],
)  # fmt: skip
def test_requires_python_clauses(version: str, spec: str, expected: bool | None) -> None:
    assert satisfies(version, spec) is expected


def test_image_names_a_known_version_only() -> None:
    assert image_version("python:3.12") == "3.12"
    assert image_version("python:3.12-slim") is None
    assert image_version("python:3.99") is None
    assert image_version(None) is None


def environments(tmp_path: Path) -> PythonEnvironments:
    """Environments that see no interpreter on PATH but ours, and would fail loudly if they ran uv."""
    return PythonEnvironments(tmp_path / "venvs", {"PATH": str(tmp_path / "empty")}, ChildProcesses())


def asset_at(file: Path, image: str | None = None) -> Asset:
    return Asset(name="a", type="python", definition_file=file, executable_file=file, image=image)


def test_no_dependencies_and_our_version_is_our_interpreter(tmp_path: Path) -> None:
    file = write(tmp_path, "p/a.py")
    python = environments(tmp_path).interpreter(asset_at(file), tmp_path, stream=None)  # type: ignore[arg-type]
    assert python == sys.executable


def test_a_missing_interpreter_is_refused_not_downloaded(tmp_path: Path) -> None:
    other = next(v for v in ("3.9", "3.10", "3.12", "3.13") if v != own_version())
    file = write(tmp_path, "p/a.py")
    with pytest.raises(BruinError, match=rf"Python {other} is not installed on this machine \(pybruin does not"):
        environments(tmp_path).interpreter(asset_at(file, f"python:{other}"), tmp_path, stream=None)  # type: ignore[arg-type]
    assert not (tmp_path / "venvs").exists()


def test_requires_python_picks_an_installed_version_or_says_none_is(tmp_path: Path) -> None:
    file = write(tmp_path, "p/a.py")
    write(tmp_path, "p/pyproject.toml", f'[project]\nname = "x"\nrequires-python = "<{own_version()}"\n')
    refusal = f"no Python installed on this machine satisfies requires-python '<{own_version()}'"
    with pytest.raises(BruinError, match=refusal):
        environments(tmp_path).interpreter(asset_at(file), tmp_path, stream=None)  # type: ignore[arg-type]


def executable(root: Path, relative: str, text: str = "\x7fELF") -> Path:
    path = write(root, relative, text)
    path.chmod(0o755)
    return path


def test_an_interpreter_on_path_is_taken_as_it_is(tmp_path: Path) -> None:
    python = executable(tmp_path, "bin/python3.12")
    assert find_interpreter("3.12", {"PATH": f"{tmp_path / 'none'}:{tmp_path / 'bin'}"}) == str(python)
    assert find_interpreter("3.13", {"PATH": str(tmp_path / "bin")}) is None


def test_a_pyenv_shim_leads_to_that_pyenvs_newest_build_of_the_version(tmp_path: Path) -> None:
    """A shim fails when its version is not pyenv's selected one: the build behind it is found instead, the
    newest patch release, never a free-threaded or development build."""
    executable(tmp_path, "pyenv/shims/python3.12", "#!/usr/bin/env bash\nexec pyenv exec python3.12\n")
    for build in ("3.12.1", "3.12.10", "3.12.9", "3.12.11t", "3.12-dev"):
        executable(tmp_path, f"pyenv/versions/{build}/bin/python3.12")
    later = executable(tmp_path, "bin/python3.12")
    env = {"PATH": f"{tmp_path / 'pyenv' / 'shims'}:{tmp_path / 'bin'}"}
    assert find_interpreter("3.12", env) == str(tmp_path / "pyenv/versions/3.12.10/bin/python3.12")
    assert find_interpreter("3.12", {"PATH": str(tmp_path / "bin")}) == str(later)


def test_pyenv_root_and_uv_installations_without_anything_on_path(tmp_path: Path) -> None:
    pyenv = executable(tmp_path, "root/versions/3.9.18/bin/python3.9")
    uv = executable(tmp_path, "home/.local/share/uv/python/cpython-3.10.13-linux-x86_64-gnu/bin/python3.10")
    executable(tmp_path, "home/.local/share/uv/python/cpython-3.13.0+freethreaded-linux-x86_64-gnu/bin/python3.13")
    env = {"PATH": str(tmp_path / "empty"), "PYENV_ROOT": str(tmp_path / "root"), "HOME": str(tmp_path / "home")}
    assert find_interpreter("3.9", env) == str(pyenv)
    assert find_interpreter("3.10", env) == str(uv)
    assert find_interpreter("3.13", env) is None
    assert find_interpreter(own_version(), {}) == (getattr(sys, "_base_executable", None) or sys.executable)
