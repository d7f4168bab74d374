"""`bruin validate` as upstream prints it: folder and asset mode, its flags, and `-o json` (spec §2.1)."""

from __future__ import annotations

import json
import subprocess

import pytest

ASSET = '"""@bruin\nname: {name}\n{extra}@bruin"""\n'


@pytest.fixture
def two(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    for pipeline in ("one", "two"):
        project.write(f"{pipeline}/pipeline.yml", f"name: {pipeline}\n")
        project.write(f"{pipeline}/assets/a.py", ASSET.format(name=f"{pipeline}_a", extra=""))
        project.write(f"{pipeline}/assets/b.py", ASSET.format(name=f"{pipeline}_b", extra="tags: [slow]\n"))
    return project


def test_folder_mode_over_several_pipelines(two):
    result = two.bruin("validate")
    assert result.returncode == 0, result.output
    assert result.stdout == (
        "\nValidating pipelines in '.' for 'default' environment...\n\n"
        "Pipeline: one (one)\n  No issues found\n\nPipeline: two (two)\n  No issues found\n\n"
        "✓ Successfully validated 4 assets across 2 pipelines, all good.\n"
    )
    excluded = two.bruin("validate", "--exclude-tag", "slow", ".")
    assert excluded.stdout.endswith("✓ Successfully validated 2 assets across 2 pipelines, all good.\n")
    only_one = two.bruin("validate", "--exclude-paths", "two", ".")
    assert only_one.stdout.endswith("✓ Successfully validated 2 assets across 1 pipeline, all good.\n")
    pipeline_file = two.bruin("validate", "one/pipeline.yml")
    assert "Pipeline: one (.)\n" in pipeline_file.stdout


def test_asset_mode(two):
    result = two.bruin("validate", "one/assets/a.py")
    assert result.returncode == 0, result.output
    assert (
        result.stdout
        == "\nPipeline: one (.)\n  No issues found\n\n✓ Successfully validated 'one/assets/a.py', all good.\n"
    )
    two.write("one/assets/c.py", ASSET.format(name="one_c", extra="depends: [ghost]\n"))
    failed = two.bruin("validate", "one/assets/c.py")
    assert failed.returncode == 1
    assert failed.stdout.endswith(
        "  one_c (assets/c.py)\n    └── Dependency 'ghost' does not exist (dependency-exists)\n\n\n"
        "✘ Checked 'one/assets/c.py' and found 1 issue, please check above.\nAn error occurred: validation failed\n"
    )
    refused = two.bruin("validate", "--exclude-tag", "slow", "one/assets/a.py")
    assert (refused.returncode, refused.stderr) == (1, "exclude-tag flag is not supported for asset-only validation\n")


def test_json_is_an_array_and_exits_zero(two):
    two.write("two/assets/c.py", ASSET.format(name="two_c", extra="depends: [ghost]\n"))
    result = two.bruin("validate", "-o", "json", ".")
    assert result.returncode == 0, result.output
    assert result.stdout.startswith('[\n  {\n    "pipeline": "one",\n    "issues": {}\n  },')
    assert json.loads(result.stdout)[1] == {
        "pipeline": "two",
        "issues": {
            "two_c": [
                {"asset": "two_c", "description": "Dependency 'ghost' does not exist", "context": [],
                 "severity": "critical"}
            ]
        },
    }  # fmt: skip


def test_warnings_and_exclude_warnings(two):
    subprocess.run(["git", "add", "-f", ".bruin.yml"], cwd=two.root, check=True)
    warned = two.bruin("validate", "-o", "json", "one")
    [pipeline] = json.loads(warned.stdout)
    [warning] = pipeline["issues"]["_pipeline"]
    assert warning["severity"] == "warning" and warning["context"] == [str(two.root / ".bruin.yml")]
    plain = two.bruin("validate", "one")
    assert plain.returncode == 0 and "found 1 warning, please check above.\n" in plain.stdout
    quiet = two.bruin("validate", "--exclude-warnings", "one")
    assert quiet.stdout.endswith("✓ Successfully validated 2 assets across 1 pipeline, all good.\n")


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (
            "nowhere",
            "Failed to find the pipeline root for the given asset: cannot find a pipeline the given task "
            "belongs to. Are you sure this task is in an actual pipeline?",
        ),
        ("one/nope", "failed to find an asset with the path or name 'one/nope' under the path '{root}/one'"),
        ("empty", "no pipelines found in path 'empty'"),
    ],
)
def test_folder_errors(two, path, error):
    (two.root / "empty").mkdir()
    result = two.bruin("validate", "-o", "json", path)
    assert (result.returncode, result.stderr) == (1, "")
    assert json.loads(result.stdout) == {"error": error.format(root=two.root)}


def test_an_asset_named_from_inside_its_pipeline(two):
    result = two.bruin("validate", "one/one_b")
    assert result.returncode == 0, result.output
    assert result.stdout.endswith("✓ Successfully validated 'one/one_b', all good.\n")
