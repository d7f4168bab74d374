"""`bruin run` end to end: real subprocesses of the CLI on temporary git projects."""

from __future__ import annotations

import json
import os
import shutil
import signal

import pytest

CHESS_JSON = (
    '{"name":"chess-default","players":["FabianoCaruana","Hikaru","MagnusCarlsen","GothamChess",'
    '"DanielNaroditsky","AnishGiri","Firouzja2003","LevonAronian","WesleySo","GarryKasparov"]}'
)

BRUIN_YML = """
default_environment: default
environments:
  default:
    connections:
      generic:
        - name: KEY1
          value: value1
      chess:
        - name: chess-default
          players: [FabianoCaruana, Hikaru, MagnusCarlsen, GothamChess, DanielNaroditsky,
                    AnishGiri, Firouzja2003, LevonAronian, WesleySo, GarryKasparov]
      duckdb:
        - name: duckdb-default
          path: duckdb-files/duckdb.db
  env-run-default-option:
    connections:
      generic:
        - name: KEY1
          value: value1
        - name: KEY2
          value: value2
"""


@pytest.fixture
def chess_project(project):
    project.write(".bruin.yml", BRUIN_YML)
    return project


def test_r_asset_receives_generic_and_json_secrets(chess_project):
    assert shutil.which("Rscript"), "Rscript is required (installed by .ci/run)"
    chess_project.write("r-with-connections/pipeline.yml", "name: r-with-connections\n")
    chess_project.write(
        "r-with-connections/assets/with_secrets.r",
        f"""
        "@bruin
        name: with_secrets
        type: r
        secrets:
          - key: KEY1
            inject_as: INJECTED1
          - key: chess-default
            inject_as: CHESS_DEFAULT
        @bruin"

        if (Sys.getenv("BRUIN_ASSET") == "") stop("BRUIN_ASSET is empty")
        if (Sys.getenv("INJECTED1") != "value1") stop("INJECTED1 is wrong")
        if (Sys.getenv("CHESS_DEFAULT") != '{CHESS_JSON}') stop("CHESS_DEFAULT is wrong")
        cat("All environment variable tests passed!\\n")
        """,
    )
    result = chess_project.bruin("run", "r-with-connections")
    assert result.returncode == 0, result.output
    assert "[with_secrets] >> All environment variable tests passed!" in result.stdout
    assert chess_project.bruin("validate", "r-with-connections").returncode == 0


def test_single_python_asset_with_hyphenated_env_name(chess_project):
    chess_project.write("happy-path/pipeline.yml", "name: happy-path\n")
    chess_project.write(
        "happy-path/assets/products.py",
        '''
        """@bruin
        name: products
        @bruin"""
        raise SystemExit("products must not run when a single asset is selected")
        ''',
    )
    chess_project.write(
        "happy-path/assets/happy.py",
        f'''
        """ @bruin
        name: python_asset_happy
        image: python:3.11
        depends: [products]
        secrets:
          - key: KEY1
            inject_as: INJECTED1
          - key: chess-default
        @bruin """
        import os
        assert os.getenv("INJECTED1") == "value1"
        assert os.getenv("chess-default") == {CHESS_JSON!r}
        assert os.getenv("KEY1") is None
        print("happy")
        ''',
    )
    result = chess_project.bruin("run", "happy-path/assets/happy.py")
    assert result.returncode == 0, result.output
    assert "[python_asset_happy] >> happy" in result.stdout
    assert "Running:  products" not in result.stdout


def test_pipeline_default_secrets_and_environment_option(chess_project):
    chess_project.write(
        "defaults/pipeline.yml",
        """
        name: integration_test
        default:
          secrets:
            - key: KEY2
              inject_as: INJECTED2
            - key: KEY1
        """,
    )
    chess_project.write(
        "defaults/assets/asset.py",
        '''
        """@bruin
        name: python_asset
        secrets:
          - key: KEY1
            inject_as: INJECTED1
        @bruin"""
        import json, os
        assert os.environ["INJECTED1"] == "value1"
        assert os.environ["INJECTED2"] == "value2"
        assert "KEY1" not in os.environ, "the asset's own mapping of KEY1 wins over the default"
        types = json.loads(os.environ["BRUIN_CONNECTION_TYPES"])
        assert types == {"INJECTED1": "generic", "INJECTED2": "generic"}, types
        ''',
    )
    chess_project.write(
        "defaults/assets/other.py",
        '''
        """@bruin
        name: other_asset
        @bruin"""
        import os
        assert os.environ["INJECTED2"] == "value2"
        assert os.environ["KEY1"] == "value1", "a default without inject_as is injected under its key"
        ''',
    )
    result = chess_project.bruin("run", "--env", "env-run-default-option", "defaults")
    assert result.returncode == 0, result.output
    assert "Finished: python_asset" in result.stdout and "Finished: other_asset" in result.stdout


def test_unknown_secret_fails_only_its_branch(chess_project):
    chess_project.write("p/pipeline.yml", "name: p\n")
    chess_project.write(
        "p/assets/broken.py",
        '''
        """@bruin
        name: broken
        secrets:
          - key: KEY9
        @bruin"""
        open("broken-ran", "w").close()
        ''',
    )
    chess_project.write("p/assets/after.py", '"""@bruin\nname: after\ndepends: [broken]\n@bruin"""\n')
    chess_project.write("p/assets/independent.py", '"""@bruin\nname: independent\n@bruin"""\nprint("ok")\n')
    result = chess_project.bruin("run", "--workers", "1", "p")
    assert result.returncode == 1
    assert "there's no secret with the name 'KEY9'." in result.stdout
    assert not (chess_project.root / "broken-ran").exists(), "the asset must fail before its process starts"
    manifest = json.loads(chess_project.bruin("run", "-o", "json", "p").stdout)
    statuses = {a["name"]: a["status"] for a in manifest["assets"]}
    assert statuses == {"after": "upstream_failed", "broken": "failed", "independent": "succeeded"}


def test_run_context_variables(project):
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    schema_prefix: dev\n    connections:\n"
        "      generic:\n        - {name: my_conn, value: dummy}\n",
    )
    project.write(
        "pipeline/pipeline.yml",
        """
        name: test_pipeline
        variables:
          count: {type: integer, default: 1}
          debug: {type: boolean, default: false}
          region: {type: string, default: eu}
        """,
    )
    project.write(
        "pipeline/assets/test_context.py",
        '''
        """@bruin
        name: test_context
        connection: my_conn
        @bruin"""
        import json, os
        from datetime import datetime
        env = os.environ
        assert env["BRUIN_ASSET"] == env["BRUIN_THIS"] == "test_context"
        assert env["BRUIN_PIPELINE"] == "test_pipeline"
        assert env["BRUIN_START_DATE"] == "2024-06-01" and env["BRUIN_END_DATE"] == "2024-06-02"
        assert env["BRUIN_START_DATETIME"] == "2024-06-01T00:00:00"
        assert env["BRUIN_START_TIMESTAMP"] == "2024-06-01T00:00:00.000000Z"
        assert env["BRUIN_END_TIMESTAMP"] == "2024-06-02T00:00:00.000000Z"
        datetime.fromisoformat(env["BRUIN_EXECUTION_TIMESTAMP"])
        assert env["BRUIN_FULL_REFRESH"] == "1"
        assert env["BRUIN_SCHEMA_PREFIX"] == "dev_"
        assert env["BRUIN_CONNECTION"] == "my_conn" and env["my_conn"] == "dummy"
        assert json.loads(env["BRUIN_VARS"]) == {"count": 42, "debug": True, "region": "eu"}
        assert json.loads(env["BRUIN_VARS_SCHEMA"])["count"] == {"type": "integer"}
        assert env["BRUIN_RUN_ID"] == "run-123"
        assert env["PYTHONUNBUFFERED"] == "1"
        assert os.getcwd() == env["EXPECTED_CWD"]
        ''',
    )
    result = project.bruin(
        "run",
        "--start-date",
        "2024-06-01",
        "--end-date",
        "2024-06-02",
        "--full-refresh",
        "--var",
        "count=42",
        "--var",
        "debug=true",
        "pipeline/assets/test_context.py",
        env={"BRUIN_RUN_ID": "run-123", "EXPECTED_CWD": str(project.root)},
    )
    assert result.returncode == 0, result.output


def test_var_expansion_and_masking_of_injected_values(project):
    canary = "canary-7f3a9c1e-expansion"
    project.write(
        ".bruin.yml",
        """
        environments:
          default:
            connections:
              generic:
                - name: API
                  value: "${API_TOKEN}"
                - name: MISSING
                  value: "${NOT_SET_ANYWHERE}"
              postgres:
                - name: pg
                  host: "${PGHOST_FOR_TEST}"
                  port: "${PGPORT_FOR_TEST}"
                  username: u
                  password: "${PGPASSWORD_FOR_TEST}"
                  database: d
        """,
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/a.py",
        '''
        """@bruin
        name: a
        secrets: [{key: API}, {key: MISSING}, {key: pg}]
        @bruin"""
        import base64, json, os
        assert os.environ["MISSING"] == ""
        pg = json.loads(os.environ["pg"])
        assert pg["port"] == 5433 and pg["host"] == "db#1:x" and pg["password"] == "null"
        token = os.environ["API"]
        print("raw", token)
        print("b64", base64.b64encode(token.encode()).decode())
        ''',
    )
    result = project.bruin(
        "run",
        "p",
        env={
            "API_TOKEN": canary,
            "PGHOST_FOR_TEST": "db#1:x",
            "PGPORT_FOR_TEST": "5433",
            "PGPASSWORD_FOR_TEST": "null",
        },
    )
    assert result.returncode == 0, result.output
    assert canary not in result.output
    assert "raw ****" in result.stdout
    assert project.files_containing(canary) == []


def test_workers_run_independent_assets_concurrently(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    waiter = '''
    """@bruin
    name: {me}
    @bruin"""
    import pathlib, time
    pathlib.Path("{me}.started").touch()
    for _ in range(200):
        if pathlib.Path("{other}.started").exists():
            break
        time.sleep(0.05)
    else:
        raise SystemExit("{other} never ran alongside {me}")
    '''
    project.write("p/assets/left.py", waiter.format(me="left", other="right"))
    project.write("p/assets/right.py", waiter.format(me="right", other="left"))
    result = project.bruin("run", "--workers", "2", "p")
    assert result.returncode == 0, result.output


def test_stdout_and_stderr_are_streamed_with_the_asset_name(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/noisy.py",
        '"""@bruin\nname: noisy\n@bruin"""\nimport sys\nprint("to stdout")\nprint("to stderr", file=sys.stderr)\n',
    )
    result = project.bruin("run", "--no-timestamp", "p")
    assert result.returncode == 0, result.output
    assert "[noisy] >> to stdout" in result.stdout
    assert "[noisy] >> to stderr" in result.stdout


def test_requirements_txt_uses_a_cached_uv_environment(project, tmp_path):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/requirements.txt", "six==1.16.0\n")
    project.write(
        "p/assets/uses_six.py",
        '''
        """@bruin
        name: uses_six
        image: python:3.11
        @bruin"""
        import sys, six
        assert six.__version__ == "1.16.0"
        print("interpreter", sys.prefix)
        ''',
    )
    env = {"HOME": str(tmp_path / "home")}
    first = project.bruin("run", "p", env=env, timeout=300)
    assert first.returncode == 0, first.output
    second = project.bruin("run", "p", env=env)
    assert second.returncode == 0, second.output
    venvs = list((tmp_path / "home" / ".cache" / "pybruin" / "venvs").iterdir())
    assert len(venvs) == 1 and venvs[0].name.startswith("py3.11-")


def test_missing_rscript_fails_r_assets_only(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/script.r", '"@bruin\nname: in_r\n@bruin"\ncat("hi")\n')
    project.write("p/assets/script.py", '"""@bruin\nname: in_python\n@bruin"""\nprint("fine")\n')
    result = project.bruin("run", "p", env={"PATH": "/nonexistent"})
    assert result.returncode == 1
    assert "R is not installed or not in PATH" in result.stdout
    assert "Finished: in_python" in result.stdout


def test_disabled_assets_are_skipped(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/off.py", '"""@bruin\nname: off\nenabled: false\n@bruin"""\nraise SystemExit(1)\n')
    project.write("p/assets/on.py", '"""@bruin\nname: on\ndepends: [off]\n@bruin"""\nprint("ran")\n')
    result = project.bruin("run", "-o", "json", "p")
    assert result.returncode == 0, result.output
    statuses = {a["name"]: a["status"] for a in json.loads(result.stdout)["assets"]}
    assert statuses == {"off": "skipped", "on": "succeeded"}


def test_downstream_flag_runs_the_asset_and_its_dependents(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\n@bruin"""\n')
    project.write("p/assets/b.py", '"""@bruin\nname: b\ndepends: [a]\n@bruin"""\n')
    project.write("p/assets/c.py", '"""@bruin\nname: c\n@bruin"""\nraise SystemExit(3)\n')
    result = project.bruin("run", "--downstream", "-o", "json", "p/assets/a.py")
    assert result.returncode == 0, result.output
    statuses = {a["name"]: a["status"] for a in json.loads(result.stdout)["assets"]}
    assert statuses == {"a": "succeeded", "b": "succeeded"}


def test_version_and_help(project):
    assert project.bruin("--version").stdout.startswith("bruin ")
    help_text = project.bruin("--help").stdout
    assert "run" in help_text and "validate" in help_text


def test_a_capped_connection_does_not_hold_back_independent_assets(project):
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      generic:\n"
        "        - {name: X, value: v-1234567, max_concurrent_assets: 1}\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/x1.py",
        '''
        """@bruin
        name: x1
        connection: X
        @bruin"""
        import pathlib, time
        for _ in range(200):
            if pathlib.Path("free.started").exists():
                break
            time.sleep(0.05)
        else:
            raise SystemExit("free never ran while x1 held the connection")
        pathlib.Path("x1.done").touch()
        ''',
    )
    project.write(
        "p/assets/x2.py",
        '"""@bruin\nname: x2\nconnection: X\n@bruin"""\nimport pathlib\nassert pathlib.Path("x1.done").exists()\n',
    )
    project.write("p/assets/z_free.py", '"""@bruin\nname: free\n@bruin"""\nopen("free.started", "w").close()\n')
    result = project.bruin("run", "--workers", "2", "p")
    assert result.returncode == 0, result.output


def test_context_variables_of_the_parent_do_not_reach_other_assets(project):
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      generic:\n        - {name: K, value: v-1234567}\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/plain.py",
        '"""@bruin\nname: plain\n@bruin"""\nimport os\n'
        'assert "BRUIN_CONNECTION" not in os.environ and "BRUIN_CONNECTION_TYPES" not in os.environ\n',
    )
    project.write(
        "p/assets/with_connection.py",
        '"""@bruin\nname: with_connection\nconnection: K\n@bruin"""\nimport os\n'
        'assert os.environ["BRUIN_CONNECTION"] == "K"\n'
        'assert os.environ["BRUIN_CONNECTION_TYPES"] == \'{"K":"generic"}\'\n',
    )
    result = project.bruin("run", "p", env={"BRUIN_CONNECTION": "stale", "BRUIN_CONNECTION_TYPES": '{"stale":"x"}'})
    assert result.returncode == 0, result.output


@pytest.mark.parametrize("signalled", ["bruin", "process_group"])
def test_ctrl_c_ends_the_running_asset_and_starts_no_other(project, signalled):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/a_first.py",
        '"""@bruin\nname: first\n@bruin"""\nimport os, pathlib, time\n'
        'pathlib.Path("first.pid").write_text(str(os.getpid()))\ntime.sleep(600)\n',
    )
    project.write("p/assets/b_second.py", '"""@bruin\nname: second\n@bruin"""\nopen("second.ran", "w").close()\n')
    bruin = project.spawn("run", "--workers", "1", "p")
    child = None
    try:
        child = int(project.wait_for_text("first.pid", bruin))
        if signalled == "bruin":
            os.kill(bruin.pid, signal.SIGINT)
        else:  # what a terminal does: the whole foreground process group
            os.killpg(bruin.pid, signal.SIGINT)
        out, err = bruin.communicate(timeout=60)
    finally:
        if bruin.poll() is None:
            os.killpg(bruin.pid, signal.SIGKILL)
            bruin.wait()
    assert bruin.returncode == 130, out + err
    assert "Aborted." in err
    assert not (project.root / "second.ran").exists(), "a queued asset started after Ctrl-C"
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
