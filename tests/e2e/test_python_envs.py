"""Python environments through the `bruin` CLI: a pyproject.toml project installed exactly as its uv.lock says,
warm runs that never reach uv or the network, two runs building one environment, a half-built environment
rebuilt, and a materializing asset whose environment gets pyarrow."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import BruinProject

LOCKED_PROJECT = Path(__file__).parent.parent / "fixtures" / "locked_project"
SIX_USER = '"""@bruin\nname: six_user\n@bruin"""\nimport six\nprint("six", six.__version__)\n'
LOCKED_ASSET = '''"""@bruin
name: locked
@bruin"""
import importlib.metadata, os
print("click", importlib.metadata.version("click"), "in", os.path.basename(os.getcwd()))
'''


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv cache for the session's tests, so each package is downloaded once."""
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def env(tmp_path: Path, uv_cache: Path) -> dict[str, str]:
    """A home of the test's own (so its own environment cache), sharing the session's uv cache."""
    return {"HOME": str(tmp_path / "home"), "UV_CACHE_DIR": str(uv_cache)}


def venvs(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["HOME"]) / ".cache" / "pybruin" / "venvs").iterdir())


def offline(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`env` where any uv command would fail: offline, an index nobody serves, a cache that is a file."""
    blocker = tmp_path / "not-a-cache"
    blocker.write_text("")
    return {**env, "UV_OFFLINE": "1", "UV_INDEX_URL": "http://127.0.0.1:9/simple", "UV_CACHE_DIR": str(blocker)}


def locked_project(project: BruinProject) -> None:
    """A pipeline whose pyproject.toml allows any click 8 while its uv.lock pins 8.1.7 (the runner has newer)."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/pyproject.toml", '[project]\nname = "locked"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
                                      'dependencies = ["click>=8.0"]\n')  # fmt: skip
    shutil.copy(LOCKED_PROJECT / "uv.lock", project.root / "p" / "uv.lock")
    project.write("p/assets/locked.py", LOCKED_ASSET)


def test_pyproject_with_uv_lock_installs_what_is_locked(project: BruinProject, env: dict[str, str], tmp_path) -> None:
    import importlib.metadata

    assert importlib.metadata.version("click") != "8.1.7"  # the runner's own is newer than the lock's
    locked_project(project)
    lock_before = (project.root / "p" / "uv.lock").read_bytes()
    first = project.bruin("run", "p", env=env, timeout=300)
    assert first.returncode == 0, first.output
    assert "[locked] >> click 8.1.7 in p" in first.stdout
    assert (project.root / "p" / "uv.lock").read_bytes() == lock_before
    assert not (project.root / "p" / ".venv").exists()

    warm = project.bruin("run", "p", env=offline(env, tmp_path))
    assert warm.returncode == 0, warm.output
    assert "[locked] >> click 8.1.7 in p" in warm.stdout
    assert len(venvs(env)) == 1


def test_two_runs_build_one_environment_once(project: BruinProject, env: dict[str, str]) -> None:
    """The test holds the environment's build lock until both runs say they wait for it, then lets go: one
    run builds, the other finds it ready; neither deletes what the other builds."""
    from filelock import FileLock

    from pybruin.pipeline.model import Asset
    from pybruin.run.processes import ChildProcesses
    from pybruin.run.python_envs import PythonEnvironments

    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/requirements.txt", "six==1.16.0\n")
    file = project.write("p/assets/six_user.py", SIX_USER)
    asset = Asset(name="six_user", type="python", definition_file=file, executable_file=file)
    cache = Path(env["HOME"]) / ".cache" / "pybruin" / "venvs"
    environment = PythonEnvironments(cache, {"PATH": os.environ["PATH"]}, ChildProcesses()).environment(
        asset, project.root
    )
    assert environment is not None
    environment.lock.parent.mkdir(parents=True)
    with FileLock(environment.lock):
        runs = [Watched(project.spawn("run", "p", env=env)) for _ in range(2)]
        deadline = time.monotonic() + 120
        while not all("waiting for another run building" in run.text() for run in runs):
            assert time.monotonic() < deadline, [run.text() for run in runs]
            assert all(run.process.poll() is None for run in runs), [run.text() for run in runs]
            time.sleep(0.05)
    for run in runs:
        assert run.wait() == 0, run.text()
        assert "[six_user] >> six 1.16.0" in run.text()
    assert venvs(env) == [environment.path]
    assert environment.ready


class Watched:
    """A spawned run whose stdout and stderr are read as they come, by a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._parts: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(pipe,), daemon=True)
                         for pipe in (process.stdout, process.stderr)]  # fmt: skip
        for reader in self._readers:
            reader.start()

    def _read(self, pipe) -> None:  # type: ignore[no-untyped-def]
        for line in pipe:
            self._parts.append(line)

    def text(self) -> str:
        return "".join(self._parts)

    def wait(self) -> int:
        code = self.process.wait(timeout=300)
        for reader in self._readers:
            reader.join()
        return code


def test_a_half_built_environment_is_rebuilt_compiled(project: BruinProject, env: dict[str, str]) -> None:
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/requirements.txt", "six==1.16.0\n")
    project.write("p/assets/six_user.py", SIX_USER)
    assert project.bruin("run", "p", env=env, timeout=300).returncode == 0
    [venv] = venvs(env)
    (venv / ".pybruin-ready").unlink()  # as a run killed mid-build leaves it
    shutil.rmtree(next((venv / "lib").glob("python*/site-packages")))
    again = project.bruin("run", "p", env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, timeout=300)
    assert again.returncode == 0, again.output
    assert "[six_user] >> six 1.16.0" in again.stdout
    assert (venv / ".pybruin-ready").exists()
    # compiled by the build, as an asset that may not write bytecode would import it from source every run
    assert list(venv.glob("lib/python*/site-packages/__pycache__/six.*.pyc"))


PINNED = '"""@bruin\nname: pinned\nimage: python:3.13\n@bruin"""\nimport sys\nprint("python", *sys.version_info[:2])\n'


def test_image_picks_an_installed_interpreter_and_never_downloads_one(
    project: BruinProject, env: dict[str, str], tmp_path: Path
) -> None:
    """`image: python:3.13` runs in the machine's Python 3.13 (.ci/run makes sure there is one, as the BigQuery
    emulator needs it; pyenv's is found behind its shim); where none is installed, the run fails naming the
    version, and nothing is downloaded."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/pinned.py", PINNED)
    found = project.bruin("run", "p", env=env, timeout=300)
    assert found.returncode == 0, found.output
    assert "[pinned] >> python 3 13" in found.stdout
    assert [venv.name[:7] for venv in venvs(env)] == ["py3.13-"]

    bare = tmp_path / "bare-path"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "git")
    nowhere = {"PATH": str(bare), "HOME": str(tmp_path / "other-home"), "PYENV_ROOT": str(bare),
               "UV_PYTHON_INSTALL_DIR": str(bare)}  # fmt: skip
    missing = project.bruin("run", "p", env={**env, **nowhere})
    assert missing.returncode == 1
    refusal = ("Python 3.13 is not installed on this machine (pybruin does not download interpreters); install "
               "python3.13 or change the asset's image")  # fmt: skip
    assert any("pinned" in line and refusal in line for line in missing.stdout.splitlines()), missing.stdout
    assert not (tmp_path / "other-home" / ".cache" / "pybruin" / "venvs").exists()


def test_a_materializing_asset_gets_pyarrow_in_its_environment(
    project: BruinProject, env: dict[str, str], tmp_path: Path
) -> None:
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - name: wh\n          path: w.db\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/requirements.txt", "six==1.16.0\n")
    project.write("p/assets/rows.py", '"""@bruin\nname: rows\nconnection: wh\nmaterialization:\n  type: table\n'
                                      '@bruin"""\nimport six, sys\nprint("prefix", sys.prefix)\n'
                                      'def materialize():\n    return [{"six": six.__version__}]\n')  # fmt: skip
    first = project.bruin("run", "p", env=env, timeout=600)
    assert first.returncode == 0, first.output
    [venv] = venvs(env)
    assert f"[rows] >> prefix {venv}" in first.stdout
    warm = project.bruin("run", "p", env=offline(env, tmp_path))
    assert warm.returncode == 0, warm.output
    import duckdb

    with duckdb.connect(str(project.root / "w.db"), read_only=True) as db:
        assert db.execute("select six from rows").fetchall() == [("1.16.0",)]


UNLOCKED_PROJECT = '[project]\nname = "unlocked"\nversion = "0.1.0"\ndependencies = ["six==1.16.0"]\n'
COUNTRIES = '''"""@bruin
name: countries
connection: wh
materialization:
  type: table
@bruin"""
import os, six


def materialize():
    return [{"six": six.__version__, "cwd": os.path.basename(os.getcwd())}]
'''


def test_a_pyproject_without_a_lock_installs_its_dependencies_for_a_materializing_asset(
    project: BruinProject, env: dict[str, str]
) -> None:
    """Upstream's `python-pyproject-materialization` without its lock: the nearest pyproject.toml above the asset
    defines the environment (its `[project] dependencies`, plus pyarrow), the asset runs in the project's folder,
    and the project is left as it was: no uv.lock, no .venv."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - name: wh\n          path: w.db\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/pyproject.toml", UNLOCKED_PROJECT)
    project.write("p/assets/deep/countries.py", COUNTRIES)
    result = project.bruin("run", "p", env=env, timeout=600)
    assert result.returncode == 0, result.output
    import duckdb

    with duckdb.connect(str(project.root / "w.db"), read_only=True) as db:
        assert db.execute("select six, cwd from countries").fetchall() == [("1.16.0", "p")]
    assert not (project.root / "p" / "uv.lock").exists() and not (project.root / "p" / ".venv").exists()


TEMPLATE_ASSET = '''""" @bruin
name: myschema.my_mat_asset
image: python:3.11
connection: duckdb-default
materialization:
  type: table
  strategy: merge
columns:
  - name: col1
    type: int
    primary_key: true
    checks:
      - name: unique
@bruin """
import pandas as pd


def materialize():
    items = 100000
    return pd.DataFrame({"col1": range(items), "col2": [f"value_new_{i}" for i in range(items)],
                         "col3": [i * 6.0 for i in range(items)]})
'''


def test_the_python_templates_materialized_asset(project: BruinProject, env: dict[str, str], tmp_path: Path) -> None:
    """Upstream's `python` template: a merge into DuckDB from pandas pinned in requirements.txt, with a check."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - name: duckdb-default\n          path: duckdb.db\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: bruin-init\n")
    project.write("p/assets/mat/requirements.txt", "pandas==2.2.3\n")
    project.write("p/assets/mat/asset.py", TEMPLATE_ASSET)
    for run_env in (env, offline(env, tmp_path)):  # cold, then warm without uv or the network
        result = project.bruin("run", "p", env=run_env, timeout=600)
        assert result.returncode == 0, result.output
        assert "Finished: myschema.my_mat_asset:col1:unique" in result.stdout
    import duckdb

    with duckdb.connect(str(project.root / "duckdb.db"), read_only=True) as db:
        assert db.execute("select count(*), count(distinct col1), max(col3) from myschema.my_mat_asset").fetchone() == (
            100000, 100000, 599994.0
        )
