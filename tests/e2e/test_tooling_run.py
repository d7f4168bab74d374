"""`bruin run` as tools drive it: selection flags, upstream's console texts, the run state file and `--continue`."""

from __future__ import annotations

import json
import re

import pytest


def asset(name: str, *, tags: tuple[str, ...] = (), depends: tuple[str, ...] = (), body: str = "") -> str:
    header = f"name: {name}\n"
    if tags:
        header += f"tags: [{', '.join(tags)}]\n"
    if depends:
        header += f"depends: [{', '.join(depends)}]\n"
    code = body or f"print({name!r} + ' ran')"
    return f'"""@bruin\n{header}@bruin"""\n{code}\n'


@pytest.fixture
def tagged(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", asset("a", tags=("include",)))
    project.write("p/assets/b.py", asset("b", tags=("include", "exclude"), depends=("a",)))
    project.write("p/assets/c.py", asset("c", depends=("b",)))
    return project


def ran(result) -> list[str]:
    return sorted(re.findall(r"\[(\w+)\] >> \w+ ran", result.stdout))


def test_tags_select_and_exclusion_wins(tagged):
    result = tagged.bruin("run", "-env", "default", "--tag", "include", "--exclude-tag", "exclude", "p")
    assert result.returncode == 0, result.output
    assert ran(result) == ["a"]
    missing = tagged.bruin("run", "--tag", "nobody", "p")
    assert (missing.returncode, missing.stderr) == (
        1,
        "Failed to filter assets: no assets found with include tag 'nobody'\n",
    )


def test_an_exclude_tag_nobody_carries_is_a_warning(tagged):
    result = tagged.bruin("run", "--exclude-tag", "nobody", "p")
    assert result.returncode == 0, result.output
    assert (
        "Warning: no assets found with exclude tag 'nobody'; continuing without excluding any assets.\n"
        in result.stdout
    )
    assert ran(result) == ["a", "b", "c"]


def test_several_assets_and_downstream(tagged):
    result = tagged.bruin("run", "p/assets/a.py", "p/assets/c.py")
    assert result.returncode == 0, result.output
    assert "Running selected assets: a, c\n" in result.stdout
    assert ran(result) == ["a", "c"]
    single = tagged.bruin("run", "p/assets/b.py", "--downstream")  # a flag after the path, as upstream allows
    assert "Running only the asset 'b'\nThe downstream tasks will be executed as well.\n" in single.stdout
    assert ran(single) == ["b", "c"]


def test_downstream_with_filters(tagged):
    """`--downstream` from a single asset or several, narrowed by `--exclude-tag` (a skipped upstream does not
    block its downstream) and `--only`."""
    excluded = tagged.bruin("run", "--downstream", "--exclude-tag", "exclude", "p/assets/a.py")
    assert excluded.returncode == 0, excluded.output
    assert ran(excluded) == ["a", "c"]
    several = tagged.bruin("run", "p/assets/a.py", "p/assets/b.py", "--downstream", "--only", "main")
    assert several.returncode == 0, several.output
    assert "Running selected assets: a, b\nThe downstream tasks will be executed as well.\n" in several.stdout
    assert ran(several) == ["a", "b", "c"]
    tagged.write("p/assets/a.py", asset("a", tags=("include",), body="raise SystemExit(1)"))
    multi = tagged.bruin("run", "--downstream", "--exclude-tag", "exclude", "p/assets/a.py", "p/assets/b.py")
    assert multi.returncode == 1 and ran(multi) == ["c"], "a failure stops at a skipped asset, as upstream's"
    assert "\nFAIL a \nPASS c \n" in multi.stdout, multi.stdout


def test_only_push_metadata_has_nothing_to_run(tagged):
    """Metadata-push tasks exist only with `--push-metadata` (not supported yet), so `--only push-metadata`
    selects nothing, as upstream's does on a pipeline without `metadata_push`."""
    result = tagged.bruin("run", "--only", "push-metadata", "p")
    assert (result.returncode, ran(result)) == (0, [])
    assert result.stdout.endswith("No tasks to run.\n")
    both = tagged.bruin("run", "--only", "main", "--only", "push-metadata", "p")
    assert both.returncode == 0 and ran(both) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--tag", "include", "p/assets/a.py"], "You cannot use the '--tag' flag when running a single asset."),
        (["--exclude-tag", "exclude", "p/assets/a.py"],
         "when running a single asset with '--exclude-tag', you must also use the '--downstream' flag"),
        (["--tag", "include", "p/assets/a.py", "p/assets/b.py"], "cannot specify assets with --tag flag"),
        (["--only", "main,checks", "p"],
         "invalid value for '--only' flag: 'main,checks', available values are 'main', 'checks', and 'push-metadata'"),
    ],
)  # fmt: skip
def test_selection_errors(tagged, args, error):
    result = tagged.bruin("run", *args)
    assert (result.returncode, result.stderr) == (1, f"Failed to filter assets: {error}\n")
    assert ran(result) == []


def test_only_main_and_only_checks(tagged):
    main = tagged.bruin("run", "--only", "main", "p")
    assert main.returncode == 0 and ran(main) == ["a", "b", "c"]
    checks = tagged.bruin("run", "--only", "checks", "p")
    assert checks.returncode == 0, checks.output
    assert checks.stdout.endswith("No tasks to run.\n")
    assert not list((tagged.root / "logs" / "runs").glob("p/*.json"))[2:], "no state file when nothing ran"


def test_console_texts_as_upstream_prints_them(tagged):
    result = tagged.bruin("run", "--no-timestamp", "--start-date", "2024-01-01", "--end-date", "2024-12-31", "p")
    assert result.returncode == 0, result.output
    assert result.stdout.startswith(
        "Analyzed the pipeline 'p' with 3 assets.\n\nPipeline: p (.)\n  No issues found\n\n"
        "✓ Successfully validated 3 assets across 1 pipeline, all good.\n"
        "\nInterval: 2024-01-01T00:00:00Z - 2024-12-31T00:00:00Z\n\nStarting the pipeline execution...\n\n"
        "Running:  a\n"
    )
    assert "Finished: a (" in result.stdout
    summary = result.stdout[result.stdout.index("=" * 50) - 1 :]
    assert re.fullmatch(
        r"\n={50}\n\nPASS a \nPASS b \nPASS c \n\n\nbruin run completed successfully in \d+(ms|\.\d+s|s)\n\n"
        r" ✓ Assets executed      3 succeeded\n",
        summary,
    ), summary


def test_failures_summary_and_minimal_logs(tagged):
    tagged.write("p/assets/b.py", asset("b", depends=("a",), body="raise SystemExit(3)"))
    result = tagged.bruin("run", "p")
    assert result.returncode == 1
    assert "\nPASS a \nFAIL b \nUPSTREAM FAILED c \n" in result.stdout
    assert " ✗ Assets executed      1 failed / 1 succeeded / 1 skipped\n" in result.stdout
    assert result.stdout.endswith(
        "\n\n1 assets failed\n└── b\n    └── failed to execute Python script: exit status 3\n\n"
    )
    minimal = tagged.bruin("run", "--minimal-logs", "p")
    assert minimal.returncode == 1
    assert "Running:" not in minimal.stdout and "Analyzed" not in minimal.stdout and "Interval" not in minimal.stdout
    assert re.search(
        r"\n\nFailed 1 tasks in \S+\n\n  b: failed to execute Python script: exit status 3\n$", minimal.stdout
    )
    tagged.write("p/assets/b.py", asset("b", depends=("a",)))
    fine = tagged.bruin("run", "--minimal-logs", "p")
    assert re.search(r"\n\nExecuted 3 tasks in \S+\n$", fine.stdout), fine.stdout


def test_validation_before_the_run_and_no_validation(tagged):
    tagged.write("p/assets/d.py", asset("d", depends=("missing",)))
    result = tagged.bruin("run", "p")
    assert result.returncode == 1
    assert "  d (assets/d.py)\n    └── Dependency 'missing' does not exist (dependency-exists)\n" in result.stdout
    assert "✘ Checked 1 pipeline and found 1 issue, please check above.\n" in result.stdout
    assert ran(result) == []
    skipped = tagged.bruin("run", "--no-validation", "p")
    assert skipped.returncode == 0, skipped.output
    assert "Successfully validated" not in skipped.stdout and ran(skipped) == ["a", "b", "c", "d"]


def state_files(project) -> list[dict]:
    folder = project.root / "logs" / "runs" / "p"
    files = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime_ns)
    return [json.loads(path.read_text()) for path in files]


def test_the_state_file_and_continue(tagged):
    tagged.write("p/assets/b.py", asset("b", depends=("a",), body="raise SystemExit(3)"))
    first = tagged.bruin("run", "--start-date", "2024-01-01", "--end-date", "2024-01-02", "p",
                         env={"BRUIN_RUN_ID": "first"})  # fmt: skip
    assert first.returncode == 1
    [state] = state_files(tagged)
    assert list(state) == ["cmdline", "parameters", "metadata", "state", "version", "timestamp", "run_id",
                           "compatibility_hash"]  # fmt: skip
    assert state["cmdline"][:2] == ["bruin", "run"] and state["cmdline"][-1] == "p"
    assert state["parameters"]["startDate"] == "2024-01-01" and state["parameters"]["workers"] == 16
    assert state["parameters"]["environment"] == "" and state["parameters"]["only"] is None
    assert state["metadata"]["os"] == "linux" and state["version"] == "1.0.0" and state["run_id"] == "first"
    assert {s["name"]: s["status"] for s in state["state"]} == {"a": "succeeded", "b": "failed", "c": "failed"}
    assert (tagged.root / "logs" / "runs" / "first.json").is_file(), "pybruin's secrets manifest stays beside it"

    tagged.write("p/assets/b.py", asset("b", depends=("a",)))
    again = tagged.bruin("run", "--continue", "p", env={"BRUIN_RUN_ID": "second"})
    assert again.returncode == 0, again.output
    assert ran(again) == ["b", "c"]
    second = state_files(tagged)[-1]
    assert {s["name"]: s["status"] for s in second["state"]} == {"a": "skipped", "b": "succeeded", "c": "succeeded"}
    assert second["parameters"]["startDate"] == "2024-01-01", "--continue runs with the saved parameters"
    assert second["compatibility_hash"] == state["compatibility_hash"]

    tagged.write("p/assets/c.py", asset("c"))  # the shape changed: c no longer depends on b
    changed = tagged.bruin("run", "--continue", "p")
    assert (changed.returncode, changed.stderr) == (
        1, "Failed to restore state: the pipeline has changed since the last run; please rerun the pipeline\n"
    )  # fmt: skip


def test_continue_without_a_state(tagged):
    result = tagged.bruin("run", "--continue", "p")
    assert result.returncode == 1
    assert result.stderr.startswith("Failed to restore state: no run state found in ")


# --- quality checks in upstream's console texts ---------------------------------------------------------------

CHECKED = """/* @bruin
type: duckdb.sql
materialization:
  type: table
columns:
  - name: id
    checks:
      - name: not_null
      - name: unique
custom_checks:
  - name: Row Count
    query: select count(*) from raw
    value: 3
  - name: Broken
    query: select count(*) from nowhere
@bruin */
select 1 as id union all select null union all select 2
"""


@pytest.fixture
def checked(project):
    """A nameless asset (named `raw` after its path) whose checks pass, fail on their result, or cannot run."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - {name: duckdb-default, path: w.db}\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/raw.sql", CHECKED)
    return project


def check_ids(project) -> dict[str, str]:
    """The check ids `internal parse-asset` shows, by `<column>.<check>` or custom check name."""
    document = json.loads(project.bruin("internal", "parse-asset", "p/assets/raw.sql").stdout)["asset"]
    ids = {f"{column['name']}.{check['name']}": check["id"] for column in document["columns"]
           for check in column["checks"]}  # fmt: skip
    ids.update({check["name"]: check["id"] for check in document["custom_checks"]})
    return ids


def test_the_summary_counts_checks_and_lists_their_failures(checked):
    result = checked.bruin("run", "--no-timestamp", "p")
    assert result.returncode == 1
    summary = result.stdout[result.stdout.index("=" * 50) - 1 :]
    assert re.fullmatch(
        r"\n={50}\n\nPASS raw F\.\.F\n\n\nbruin run completed with failures in \S+\n\n"
        r" ✗ Assets executed      1 failed due to checks\n"
        r" ✗ Quality checks       2 failed / 2 succeeded\n\n\n"
        r"1 assets failed\n└── raw\n    ├── id\.not_null - column 'id' has 1 null values\n"
        r"    └── Broken custom check - failed 'Broken' check: Catalog Error: [^\n]+\n\n",
        summary,
    ), summary
    checked.write("p/assets/raw.sql", CHECKED.replace("union all select null ", "").replace("value: 3", "value: 2")
                  .replace("from nowhere", "from raw where id > 2"))  # fmt: skip
    fine = checked.bruin("run", "p")
    assert fine.returncode == 0, fine.output
    assert "\nPASS raw ....\n" in fine.stdout
    assert " ✓ Assets executed      1 succeeded\n ✓ Quality checks       4 succeeded\n" in fine.stdout
    minimal = checked.bruin("run", "--minimal-logs", "p")
    assert re.search(r"\n\nExecuted 5 tasks in \S+\n$", minimal.stdout), minimal.stdout


def test_single_check_blocks_and_exit_codes(checked):
    """`--single-check` with the ids parse-asset gives (the asset's final name, also for a nameless asset):
    `Check Passed` (exit 0), `Check Failed` with the result and query (exit 1), or the error alone when the
    check got no result (exit 2)."""
    checked.bruin("run", "--only", "main", "p")
    ids = check_ids(checked)

    passed = checked.bruin("run", "--single-check", ids["id.unique"], "p/assets/raw.sql")
    assert passed.returncode == 0, passed.output
    assert passed.stdout.endswith(
        "\nCheck Passed\n------------\nCheck: id.unique\nAsset: raw\n\nQuery:\n"
        "SELECT COUNT(id) - COUNT(DISTINCT id) FROM main.raw\n"
    )
    assert "==========" not in passed.stdout, "no run summary after a single check"
    custom = checked.bruin("run", "--single-check", ids["Row Count"], "p/assets/raw.sql")
    assert custom.returncode == 0, custom.output
    assert "\nCheck Passed\n------------\nCheck: Row Count (custom)\nAsset: raw\n\nQuery:\n" in custom.stdout

    failed = checked.bruin("run", "--single-check", ids["id.not_null"], "p/assets/raw.sql")
    assert failed.returncode == 1
    assert failed.stdout.endswith(
        "\nCheck Failed\n------------\nError: column 'id' has 1 null values\n\nResult: 1 (expected: 0)\n\n"
        "Query:\nSELECT count(*) FROM main.raw WHERE id IS NULL\n\n"
    )

    broken = checked.bruin("run", "--single-check", ids["Broken"], "p/assets/raw.sql")
    assert broken.returncode == 2
    assert re.search(r"\nCheck Failed\n-{12}\nError: failed 'Broken' check: Catalog Error: [^\n]+\n$", broken.stdout)
