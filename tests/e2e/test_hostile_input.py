"""Input written to hurt: alias bombs, impossible variable names, symlink loops, run ids that name paths,
and concurrent runs. Each answers with one clear line (or keeps its files apart), never a hang or a traceback."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import BRUIN, EMPTY_CONFIG, GOOD_ASSET, assert_one_line_error


def alias_bomb(top_key: str = "bomb") -> str:
    """Nine levels of nine aliases: about 550 bytes that stand for 387 million strings."""
    lines = [f"{top_key}0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for level in range(1, 9):
        lines.append(f"{top_key}{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["pipeline.yml", ".bruin.yml", "header"])
def test_an_alias_bomb_is_refused_at_once(project, where):
    project.write(".bruin.yml", (alias_bomb() if where == ".bruin.yml" else "") + EMPTY_CONFIG)
    project.write("p/pipeline.yml", (alias_bomb() if where == "pipeline.yml" else "") + "name: p\n")
    if where == "header":
        body = alias_bomb().replace("bomb", "x_")
        project.write("p/assets/a.py", f'"""@bruin\nname: a\n{body}@bruin"""\n')
    else:
        project.write("p/assets/a.py", GOOD_ASSET)
    result = project.bruin("run", "p", timeout=60)
    assert_one_line_error(result, "document contains excessive aliasing")
    assert (where if where != "header" else "a.py") in result.stderr


def test_a_recursive_alias_is_refused(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\nloop: &loop [*loop]\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    assert_one_line_error(project.bruin("run", "p", timeout=60), "pipeline.yml:", "recursive alias")


@pytest.mark.parametrize("inject_as", ["A=B", "NUL\\0BYTE", "NEW\\nLINE"])
def test_inject_as_must_be_an_environment_variable_name(project, inject_as):
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n"
                  "      generic:\n        - {name: K, value: v-1234567}\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", f'"""@bruin\nname: a\nsecrets:\n  - key: K\n    inject_as: "{inject_as}"\n'
                  '@bruin"""\nprint("ran")\n')  # fmt: skip
    result = project.bruin("run", "p")
    assert_one_line_error(result, "a: secret 'K' is injected as", "not a valid environment variable name")
    assert "ran" not in result.stdout
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1 and "not a valid environment variable name" in validated.stdout


@pytest.mark.parametrize("kind", ["file loop", "dangling link"])
def test_a_symlink_loop_under_assets_is_a_clear_error(project, kind):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    assets = project.root / "p" / "assets"
    if kind == "file loop":
        os.symlink("two.py", assets / "one.py")
        os.symlink("one.py", assets / "two.py")
    else:
        os.symlink("missing.py", assets / "dangling.py")
    os.symlink(".", assets / "self")  # a folder loop is not followed at all
    result = project.bruin("validate", "p", timeout=60)
    if kind == "file loop":
        assert_one_line_error(result, "one.py: cannot read the file: Too many levels of symbolic links")
    else:
        assert result.returncode == 0, result.output


@pytest.mark.parametrize("run_id", ["../../escaped", "a/b", "..", ".hidden", "x\\ny"])
def test_a_run_id_from_outside_cannot_name_a_path(project, tmp_path, run_id):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    result = project.bruin("run", "p", env={"BRUIN_RUN_ID": run_id.replace("\\n", "\n")})
    assert_one_line_error(result, "invalid BRUIN_RUN_ID")
    assert not (project.root / "escaped").exists() and not (project.root.parent / "escaped.json").exists()
    assert not (project.root / "logs").exists()


def test_a_run_id_from_outside_is_used_as_given(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    result = project.bruin("run", "-o", "json", "p", env={"BRUIN_RUN_ID": "airflow_2024-06-01T00:00:00+00:00"})
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout)["run_id"] == "airflow_2024-06-01T00:00:00+00:00"
    assert (project.root / "logs" / "runs" / "airflow_2024-06-01T00:00:00+00:00.json").is_file()


def test_concurrent_runs_get_their_own_ids_logs_and_manifests(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    runs = [
        subprocess.Popen(
            [*BRUIN, "run", "-o", "json", "p"],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    ids = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, out + err
        ids.append(json.loads(out)["run_id"])
    assert len(set(ids)) == 4, ids
    timestamp = ids[0].rsplit("_", 1)[0]
    assert len(timestamp) == len("2024_01_01_00_00_00"), "upstream's timestamp prefix is kept"
    manifests = sorted(path.stem for path in (project.root / "logs" / "runs").glob("*.json"))
    assert manifests == sorted(ids)
    logs = sorted((project.root / "logs").glob("*.log"))
    assert len(logs) == 4
    assert not [p for p in (project.root / "logs").rglob("*") if p.name.startswith(".")], "no partial file left"
