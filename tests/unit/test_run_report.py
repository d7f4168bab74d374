"""The end of a run as upstream prints it, over main tasks and check results: rows with a mark per check, the
`Assets executed` / `Quality checks` counts, the failure tree, `--single-check`'s blocks and exit codes."""

from __future__ import annotations

from pybruin.pipeline.model import Column, ColumnCheck, CustomCheck
from pybruin.plan import Task, TaskKind
from pybruin.platforms.checks import CheckOutcome
from pybruin.run.report import CheckReport, RunReport
from pybruin.run.scheduler import Status, TaskResult
from pybruin.run.session import RunOutcome

ID = Column("id")


def column_check(asset: str, check: str, status: Status, outcome: CheckOutcome | None = None,
                 error: str | None = None) -> CheckReport:  # fmt: skip
    task = Task(f"{asset}:id:{check}", asset, TaskKind.COLUMN_CHECK, True, ID, ColumnCheck(check))
    return CheckReport(task, TaskResult(task.id, status, 0.1, error), outcome)


def custom_check(asset: str, name: str, status: Status, error: str | None = None) -> CheckReport:
    task = Task(f"{asset}:custom-check:{name}", asset, TaskKind.CUSTOM_CHECK, True, check=CustomCheck(name))
    return CheckReport(task, TaskResult(task.id, status, 0.1, error))


def report(results: list[TaskResult], checks: list[CheckReport]) -> RunReport:
    return RunReport("run", "p", "default", "2024-01-01T00:00:00+00:00", 1.5, results, checks=checks)


def summary(run: RunReport) -> str:
    return run.render_summary(color=False, mask=lambda text: text)


def test_rows_counts_and_tree_over_check_results() -> None:
    run = report(
        [TaskResult("a", Status.SUCCEEDED), TaskResult("b", Status.FAILED, error="boom"),
         TaskResult("c", Status.UPSTREAM_FAILED)],
        [column_check("a", "not_null", Status.SUCCEEDED), column_check("a", "unique", Status.FAILED, error="dupes"),
         custom_check("a", "Rows", Status.FAILED, error="4 instead of 7"),
         column_check("b", "not_null", Status.UPSTREAM_FAILED)],
    )  # fmt: skip
    assert summary(run) == (
        "\n" + "=" * 50 + "\n\nPASS a .FF\nFAIL b U\nUPSTREAM FAILED c \n\n\n"
        "bruin run completed with failures in 1.5s\n\n"
        " ✗ Assets executed      1 failed / 1 failed due to checks / 1 skipped\n"
        " ✗ Quality checks       2 failed / 1 succeeded / 1 skipped\n\n\n"
        "2 assets failed\n├── a\n│   ├── id.unique - dupes\n│   └── Rows custom check - 4 instead of 7\n"
        "└── b\n    └── boom\n\n"
    )
    assert run.statuses_by_asset() == {
        "a": ["succeeded", "succeeded", "failed", "failed"], "b": ["failed", "upstream_failed"],
        "c": ["upstream_failed"],
    }  # fmt: skip
    assert run.render_minimal(lambda text: text) == (
        "\n\nFailed 3 tasks in 1.5s\n\n  b: boom\n\n  a: dupes\n\n  a: 4 instead of 7\n"
    )


def test_checks_alone_leave_the_assets_line_out() -> None:
    run = report([TaskResult("a", Status.SKIPPED)], [column_check("a", "unique", Status.SUCCEEDED)])
    text = summary(run)
    assert "\nSKIP a .\n" in text and " ✓ Quality checks       1 succeeded\n" in text
    assert "Assets executed" not in text and run.succeeded


def test_single_check_blocks_and_exit_codes() -> None:
    passed = report([TaskResult("a", Status.SKIPPED)],
                    [column_check("a", "unique", Status.SUCCEEDED, CheckOutcome("SELECT 0", 0, 0))])  # fmt: skip
    assert passed.render_single_check(str) == (
        "\nCheck Passed\n------------\nCheck: id.unique\nAsset: a\n\nQuery:\nSELECT 0\n"
    )
    assert RunOutcome(passed, "{}", single_check=True).exit_code == 0

    outcome = CheckOutcome("SELECT 2", 2, 0)
    failed = report([TaskResult("a", Status.SKIPPED)], [column_check("a", "unique", Status.FAILED, outcome, "2 dupes")])
    assert failed.render_single_check(str) == (
        "\nCheck Failed\n------------\nError: 2 dupes\n\nResult: 2 (expected: 0)\n\nQuery:\nSELECT 2\n\n"
    )
    assert RunOutcome(failed, "{}", single_check=True).exit_code == 1

    undecided = report([TaskResult("a", Status.SKIPPED)],
                       [custom_check("a", "Rows", Status.FAILED, "failed 'Rows' check: no table")])  # fmt: skip
    assert undecided.render_single_check(str) == (
        "\nCheck Failed\n------------\nError: failed 'Rows' check: no table\n"
    )
    assert RunOutcome(undecided, "{}", single_check=True).exit_code == 2
    assert RunOutcome(undecided, "{}").exit_code == 1, "only --single-check tells the two apart"
