"""Stopping a run: asset timeouts (upstream's `asset-timeout` fixtures and more), SIGINT and SIGTERM.

Whatever stops an asset ends its whole process group and everything it started, a SQL statement is cancelled
and rolled back, and no process of the run survives: `/proc` is walked for a marker variable every process of
the run inherits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid

import duckdb
import pytest

from conftest import BRUIN, EMPTY_CONFIG, processes_with

DUCKDB_CONFIG = (
    "environments:\n  default:\n    connections:\n      duckdb:\n        - {name: duckdb-default, path: t.db}\n"
)
SLEEPER = '""" @bruin\nname: {name}\n{extra}@bruin """\n\nimport time\n\ntime.sleep({seconds})\n'


def statuses(result) -> dict[str, tuple[str, str | None]]:
    return {a["name"]: (a["status"], a["error"]) for a in json.loads(result.stdout)["assets"]}


# --- upstream's integration tests: run-asset-timeout-explicit, -from-pipeline-default, run-asset-without-timeout


@pytest.fixture
def asset_timeout(project):
    """Upstream's `asset-timeout` and `asset-no-timeout` test pipelines."""
    project.write(".bruin.yml", EMPTY_CONFIG)
    default = "name: asset-timeout\nschedule: daily\nstart_date: \"2024-01-01\"\n\ndefault:\n  timeout: 1s\n"
    project.write("asset-timeout/pipeline.yml", default)
    project.write("asset-timeout/assets/explicit.py",
                  SLEEPER.format(name="asset_timeout.explicit", extra="timeout: 2s\n", seconds=15))  # fmt: skip
    from_default = SLEEPER.format(name="asset_timeout.from_default", extra="", seconds=15)
    project.write("asset-timeout/assets/from_default.py", from_default)
    no_timeout = 'name: asset-no-timeout\nschedule: daily\nstart_date: "2024-01-01"\n'
    project.write("asset-no-timeout/pipeline.yml", no_timeout)
    project.write("asset-no-timeout/assets/no_timeout.py",
                  SLEEPER.format(name="asset_timeout.no_timeout", extra="", seconds=3))  # fmt: skip
    return project


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        ("asset-timeout/assets/explicit.py", 'asset "asset_timeout.explicit" timed out after 2s'),
        ("asset-timeout/assets/from_default.py", 'asset "asset_timeout.from_default" timed out after 1s'),
    ],
    ids=["explicit", "from-pipeline-default"],
)
def test_run_asset_timeout(asset_timeout, asset, expected):
    result = asset_timeout.bruin("run", "--no-log-file", asset, env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 1, result.output
    name = expected.split('"')[1]
    assert f"Failed: {name}" in result.stdout
    assert expected in result.stdout


def test_run_asset_without_timeout(asset_timeout):
    result = asset_timeout.bruin("run", "--no-log-file", "asset-no-timeout/assets/no_timeout.py",
                                 env={"PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    assert result.returncode == 0, result.output
    assert "Finished: asset_timeout.no_timeout" in result.stdout
    assert "bruin run completed" in result.stdout


# --- timeouts: what is stopped, what follows --------------------------------------------------------------


def test_a_timed_out_asset_takes_its_children_along_and_fails_its_downstream(project):
    marker = f"PYBRUIN_RUN_MARKER={uuid.uuid4().hex}"
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/slow.py",
        '"""@bruin\nname: slow\ntimeout: 1s\n@bruin"""\nimport subprocess, sys, time\n'
        'subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])\n'
        'subprocess.Popen(["sh", "-c", "sleep 600 & sleep 600"])\nprint("started", flush=True)\ntime.sleep(600)\n',
    )
    project.write("p/assets/after.py", '"""@bruin\nname: after\ndepends: [slow]\n@bruin"""\nprint("after ran")\n')
    project.write("p/assets/other.py", '"""@bruin\nname: other\n@bruin"""\nprint("other ran")\n')
    result = project.bruin("run", "-o", "json", "p", env=dict([marker.split("=", 1)]))
    assert result.returncode == 1, result.output
    assert statuses(result) == {
        "after": ("upstream_failed", None),
        "other": ("succeeded", None),
        "slow": ("failed", 'asset "slow" timed out after 1s'),
    }
    assert "after ran" not in result.stderr
    assert processes_with(marker) == []


def test_an_r_asset_times_out(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\ndefault:\n  timeout: 1s\n")
    project.write("p/assets/slow.r", '"@bruin\nname: slow_r\n@bruin"\nSys.sleep(600)\n')
    result = project.bruin("run", "-o", "json", "p")
    assert result.returncode == 1, result.output
    assert statuses(result) == {"slow_r": ("failed", 'asset "slow_r" timed out after 1s')}


def test_a_timed_out_sql_statement_is_cancelled_and_rolled_back(project):
    project.write(".bruin.yml", DUCKDB_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    header = "/* @bruin\nname: main.t\ntype: duckdb.sql\nmaterialization:\n  type: table\n{extra}@bruin */\n"
    project.write("p/assets/t.sql", header.format(extra="") + "select 1 as id\n")
    assert project.bruin("run", "p").returncode == 0
    slow = "select sum(a.range * b.range) as id from range(2000000000) a, range(1000000) b\n"
    project.write("p/assets/t.sql", header.format(extra="timeout: 1s\n") + slow)
    result = project.bruin("run", "-o", "json", "p")
    assert result.returncode == 1, result.output
    assert statuses(result) == {"main.t": ("failed", 'asset "main.t" timed out after 1s')}
    with duckdb.connect(str(project.root / "t.db"), read_only=True) as connection:
        assert connection.execute("select id from main.t").fetchall() == [(1,)], "the previous table is intact"


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("asset", "500ms", "Asset timeout must be at least 1s"),
        ("asset", "-5s", "Asset timeout must be at least 1s"),
        ("pipeline", "0.5s", "Pipeline default timeout must be at least 1s"),
        ("asset", "10", "'timeout' must be a duration such as 30s, 5m or 1h30m"),
        ("asset", "soon", "'timeout' must be a duration such as 30s, 5m or 1h30m"),
    ],
)
def test_invalid_timeouts_are_refused(project, where, value, message):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n" + (f"default:\n  timeout: {value}\n" if where == "pipeline" else ""))
    extra = f"timeout: {value}\n" if where == "asset" else ""
    project.write("p/assets/a.py", f'"""@bruin\nname: a\n{extra}@bruin"""\nprint("ran")\n')
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1 and message in validated.output, validated.output
    ran = project.bruin("run", "p")
    assert ran.returncode == 1 and message in ran.output and "ran\n" not in ran.stdout
    if "duration" in message:
        assert "a.py:3:" in ran.stderr, "the file and line of the key"


def test_a_zero_timeout_inherits_the_pipeline_default(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\ndefault:\n  timeout: 1s\n")
    project.write("p/assets/a.py", SLEEPER.format(name="a", extra="timeout: 0s\n", seconds=600))
    result = project.bruin("run", "-o", "json", "p")
    assert statuses(result) == {"a": ("failed", 'asset "a" timed out after 1s')}


# --- signals -----------------------------------------------------------------------------------------------


def start_bruin(project, *args: str, marker: str) -> subprocess.Popen[str]:
    """`bruin run` in a session of its own, so SIGINT is not ignored in it and the test can signal its group."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    env.update(dict([marker.split("=", 1)]))
    return subprocess.Popen(
        [*BRUIN, "run", *args],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def signal_run(project, args: list[str], *, marker: str, ready: str, signum: int, group: bool = False):
    """Start `bruin run`, wait until an asset wrote the file `ready`, signal bruin (or its process group) and
    return (exit code, stdout, stderr). Whatever is left is killed, so a failing test leaves nothing behind."""
    bruin = start_bruin(project, *args, marker=marker)
    path = project.root / ready
    try:
        for _ in range(1200):
            if path.exists() and path.read_text():
                break
            assert bruin.poll() is None, bruin.communicate()
            time.sleep(0.05)
        time.sleep(0.3)  # let what the asset starts get going
        assert len(processes_with(marker)) >= 2
        (os.killpg if group else os.kill)(bruin.pid, signum)
        out, err = bruin.communicate(timeout=60)
    finally:
        if bruin.poll() is None:
            os.killpg(bruin.pid, signal.SIGKILL)
            bruin.wait()
    return bruin.returncode, out, err


HOLDER = (
    '"""@bruin\nname: holder\n@bruin"""\nimport os, pathlib, subprocess, sys, time\n'
    # a grandchild in a new session that keeps the output pipe open, and one that stays in the group
    'subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=False)\n'
    'subprocess.Popen(["sh", "-c", "trap \\"\\" TERM; sleep 600"])\n'
    'pathlib.Path("holder.pid").write_text(str(os.getpid()))\ntime.sleep(600)\n'
)


@pytest.mark.parametrize(
    ("signum", "whom", "code"),
    [
        (signal.SIGINT, "bruin", 130),
        (signal.SIGINT, "group", 130),
        (signal.SIGTERM, "bruin", 143),
    ],
    ids=["sigint-to-bruin", "sigint-to-the-group", "sigterm-to-bruin"],
)
def test_a_signal_ends_every_process_of_the_run(project, signum, whom, code):
    marker = f"PYBRUIN_RUN_MARKER={uuid.uuid4().hex}"
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/holder.py", HOLDER)
    project.write("p/assets/queued.py", '"""@bruin\nname: queued\ndepends: [holder]\n@bruin"""\nopen("q", "w")\n')
    returncode, out, err = signal_run(
        project, ["--workers", "1", "p"], marker=marker, ready="holder.pid", signum=signum, group=whom == "group"
    )
    assert returncode == code, out + err
    assert ("Aborted." if signum == signal.SIGINT else "Terminated.") in err
    assert not (project.root / "q").exists(), "a queued asset started after the signal"
    assert processes_with(marker) == []


def test_a_running_sql_statement_is_cancelled_on_sigterm(project):
    marker = f"PYBRUIN_RUN_MARKER={uuid.uuid4().hex}"
    project.write(".bruin.yml", DUCKDB_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    header = "/* @bruin\nname: main.t\ntype: duckdb.sql\nmaterialization:\n  type: table\n@bruin */\n"
    project.write("p/assets/t.sql", header + "select 1 as id\n")
    assert project.bruin("run", "p").returncode == 0
    project.write("p/assets/t.sql", header + "select sum(a.range * b.range) as id from range(2000000000) a, "
                  "range(1000000) b\n")  # fmt: skip
    project.write("p/assets/flag.py", '"""@bruin\nname: flag\n@bruin"""\nopen("flag.started", "w").write("1")\n'
                  "import time\ntime.sleep(600)\n")  # fmt: skip
    returncode, out, err = signal_run(
        project, ["--workers", "2", "p"], marker=marker, ready="flag.started", signum=signal.SIGTERM
    )
    assert returncode == 143, out + err
    assert processes_with(marker) == []
    with duckdb.connect(str(project.root / "t.db"), read_only=True) as connection:
        assert connection.execute("select id from main.t").fetchall() == [(1,)], "rolled back, not committed"


def test_an_asset_that_exits_while_its_child_holds_the_output_does_not_hold_the_run(project):
    marker = f"PYBRUIN_RUN_MARKER={uuid.uuid4().hex}"
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/leaver.py",
        '"""@bruin\nname: leaver\n@bruin"""\nimport subprocess, sys\n'
        'subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])\nprint("leaving")\n',
    )
    project.write("p/assets/next.py", '"""@bruin\nname: next\ndepends: [leaver]\n@bruin"""\nprint("next ran")\n')
    result = project.bruin("run", "p", env=dict([marker.split("=", 1)]), timeout=120)
    assert result.returncode == 0, result.output
    assert "[leaver] >> leaving" in result.stdout and "[next] >> next ran" in result.stdout
    assert processes_with(marker) == []
