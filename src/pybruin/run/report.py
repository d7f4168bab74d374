"""The end of a run: the summary people read and the manifest machines check."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pybruin.durations import format_go_duration
from pybruin.records import Record, field
from pybruin.run.child_env import ReceivedSecret
from pybruin.run.files import write_atomically
from pybruin.run.scheduler import Status, TaskResult

if TYPE_CHECKING:
    from pybruin.plan import Task
    from pybruin.platforms.checks import CheckOutcome

MANIFEST_VERSION = 1
_FINE = (Status.SUCCEEDED, Status.SKIPPED)


class CheckReport(Record):
    """One quality check of the run: the task, how it ended, and what it queried and got (None when it
    never ran, or failed before its query did)."""

    task: Task
    result: TaskResult
    outcome: CheckOutcome | None = None

    def as_dict(self) -> dict[str, object]:
        check = self.task.check
        assert check is not None, self.task
        outcome = self.outcome
        return {
            "name": self.task.id,
            "id": check.id,
            "kind": str(self.task.kind),
            "column": self.task.column.name if self.task.column is not None else None,
            "check": check.name,
            "blocking": self.task.blocking,
            "status": str(self.result.status),
            "duration_seconds": round(self.result.duration, 3),
            "error": self.result.error,
            "query": outcome.query if outcome else None,
            "value": outcome.value if outcome else None,
            "expected": outcome.expected if outcome else None,
        }


class RunReport(Record, frozen=False):
    """Outcome of every asset of the run, in pipeline order, what each could read, and every check."""

    run_id: str
    pipeline: str
    environment: str
    started_at: str
    duration: float
    results: list[TaskResult]
    received: Mapping[str, Sequence[ReceivedSecret]] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    #: The checks that ran or were due to run, in plan order; any failure fails the run, blocking or not.
    checks: Sequence[CheckReport] = ()
    #: The run's per-run credentials (see `run/leases.py`): lease ids, TTLs, whether revoked — never a credential.
    leases: Sequence[Mapping[str, object]] = ()

    @property
    def succeeded(self) -> bool:
        return all(r.status in _FINE for r in self.results) and all(c.result.status in _FINE for c in self.checks)

    def manifest(self) -> dict[str, object]:
        """The audit trail: statuses and which credential each asset received — never a value."""
        return {
            "version": MANIFEST_VERSION,
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "environment": self.environment,
            "started_at": self.started_at,
            "duration_seconds": round(self.duration, 3),
            "status": "succeeded" if self.succeeded else "failed",
            "assets": [
                {
                    "name": result.name,
                    "type": self.types.get(result.name, ""),
                    "status": str(result.status),
                    "duration_seconds": round(result.duration, 3),
                    "error": result.error,
                    "secrets": [secret.as_dict() for secret in self.received.get(result.name, ())],
                    "checks": [check.as_dict() for check in self.checks if check.task.asset == result.name],
                }
                for result in self.results
            ],
            "leases": list(self.leases),
        }

    def manifest_json(self) -> str:
        return json.dumps(self.manifest(), indent=2) + "\n"

    def write_manifest(self, path: Path, text: str) -> None:
        write_atomically(path, text.encode())

    def render_summary(self, *, color: bool, mask: Callable[[str], str], width: int = 100) -> str:
        """Upstream's closing block (what tools grep), then, on a colour terminal, the tables people read.

        Per asset one `PASS`/`FAIL`/`UPSTREAM FAILED` row with a mark per check (`.`, `F`, `U`), the verdict
        line, the counts, and the tree of failures. Cells and errors are masked before layout: a table
        may wrap a long error across lines, and a secret cut in two can no longer be recognised.
        """
        lines = ["", "=" * 50, ""]
        lines += [f"{status} {asset} {marks}" for status, asset, marks in self._rows()]
        verdict = "completed successfully" if self.succeeded else "completed with failures"
        lines += ["", "", f"bruin run {verdict} in {_duration(self.duration)}", ""]
        lines += self._counts()
        failures = self._failure_tree(mask)
        if failures:
            lines += ["", "", *failures, ""]
        text = "\n".join(lines) + "\n"
        if not color:
            return text
        check_results = [check.result for check in self.checks]
        problems = [
            (result.name, result.status, mask(result.error or ""))
            for result in [*self.results, *check_results]
            if result.status in (Status.FAILED, Status.UPSTREAM_FAILED)
        ]
        return text + _rich_summary(_totals(self.results), _totals(check_results), problems, width)

    def render_minimal(self, mask: Callable[[str], str]) -> str:
        """`--minimal-logs`: one line of counts, and each failed task's error."""
        results = [*self.results, *(check.result for check in self.checks)]
        failed = [(self._asset_of(r.name), r) for r in results if r.status is Status.FAILED]
        if not failed:
            ran = sum(result.status is Status.SUCCEEDED for result in results)
            return f"\n\nExecuted {ran} tasks in {_duration(self.duration)}\n"
        details = "".join(f"\n  {asset}: {mask(result.error or '')}\n" for asset, result in failed)
        return f"\n\nFailed {len(failed)} tasks in {_duration(self.duration)}\n{details}"

    def render_single_check(self, mask: Callable[[str], str]) -> str:
        """`--single-check`: upstream's `Check Passed` or `Check Failed` block for the one check of the run."""
        (check,) = self.checks
        assert check.task.check is not None, check.task
        outcome = check.outcome
        if check.result.status is Status.SUCCEEDED:
            if check.task.column is not None:
                lines = [f"Check: {check.task.column.name}.{check.task.check.name}"]
            else:
                lines = [f"Check: {check.task.check.name} (custom)"]
            lines += [f"Asset: {check.task.asset}", ""]
            if outcome is not None and outcome.query:
                lines += ["Query:", outcome.query]
            return "\nCheck Passed\n" + "-" * 12 + "\n" + "\n".join(lines) + "\n"
        error = mask(check.result.error or "")
        if outcome is None or outcome.value is None:
            return "\nCheck Failed\n" + "-" * 12 + f"\nError: {error}\n"
        return (
            "\nCheck Failed\n" + "-" * 12 + f"\nError: {error}\n\nResult: {outcome.value} (expected: "
            f"{outcome.expected})\n\nQuery:\n{outcome.query}\n\n"
        )

    def checks_decided(self) -> bool:
        """Whether every failed check failed on its result (upstream's `CheckError`), not before it had one."""
        return all(
            check.outcome is not None and check.outcome.value is not None
            for check in self.checks
            if check.result.status is Status.FAILED
        )

    def statuses_by_asset(self) -> dict[str, list[str]]:
        """Asset name → the statuses of its tasks in this run: the main task's, then its checks'."""
        statuses: dict[str, list[str]] = {}
        for result in self.results:
            statuses.setdefault(result.name, []).append(str(result.status))
        for check in self.checks:
            statuses.setdefault(check.task.asset, []).append(str(check.result.status))
        return statuses

    def _asset_of(self, task: str) -> str:
        return next((check.task.asset for check in self.checks if check.task.id == task), task)

    def _rows(self) -> list[tuple[str, str, str]]:
        """Per asset that ran (or was due to): its main task's status and a mark per check."""
        marks: dict[str, list[str]] = {}
        for check in self.checks:
            if check.result.status is not Status.SKIPPED:
                marks.setdefault(check.task.asset, []).append(_MARKS.get(check.result.status, ""))
        rows = []
        for result in self.results:
            if result.status is Status.SKIPPED and result.name not in marks:
                continue
            rows.append((_ROW_STATUS.get(result.status, "SKIP"), result.name, "".join(marks.get(result.name, []))))
        return rows

    def _counts(self) -> list[str]:
        mains = [r for r in self.results if r.status is not Status.SKIPPED]
        checks = [c.result for c in self.checks if c.result.status is not Status.SKIPPED]
        failed_checks = {c.task.asset for c in self.checks if c.result.status is Status.FAILED}
        lines = []
        if mains:
            failed = sum(r.status is Status.FAILED for r in mains)
            due_to_checks = sum(r.status is Status.SUCCEEDED and r.name in failed_checks for r in mains)
            skipped = sum(r.status is Status.UPSTREAM_FAILED for r in mains)
            lines.append(_count_line("Assets executed", len(mains), failed, due_to_checks, skipped))
        if checks:
            failed = sum(r.status is Status.FAILED for r in checks)
            skipped = sum(r.status is Status.UPSTREAM_FAILED for r in checks)
            lines.append(_count_line("Quality checks", len(checks), failed, 0, skipped))
        return lines

    def _failure_tree(self, mask: Callable[[str], str]) -> list[str]:
        """Upstream's tree of failed assets: a main task's error, `<column>.<check> - <error>` for a column
        check, `<name> custom check - <error>` for a custom check."""
        by_asset: dict[str, list[str]] = {result.name: [] for result in self.results}  # in pipeline order
        for result in self.results:
            if result.status is Status.FAILED:
                by_asset[result.name].append(mask(result.error or ""))
        for check in self.checks:
            if check.result.status is not Status.FAILED:
                continue
            assert check.task.check is not None, check.task
            error = mask(check.result.error or "")
            if check.task.column is not None:
                line = f"{check.task.column.name}.{check.task.check.name} - {error}"
            else:
                line = f"{check.task.check.name} custom check - {error}"
            by_asset.setdefault(check.task.asset, []).append(line)
        by_asset = {asset: errors for asset, errors in by_asset.items() if errors}
        if not by_asset:
            return []
        lines = [f"{len(by_asset)} assets failed"]
        for index, (asset, errors) in enumerate(by_asset.items()):
            last = index == len(by_asset) - 1
            lines.append(("└── " if last else "├── ") + asset)
            for position, error in enumerate(errors):
                branch = "└── " if position == len(errors) - 1 else "├── "
                lines.append(("    " if last else "│   ") + branch + error)
        return lines


_ROW_STATUS = {
    Status.SUCCEEDED: "PASS",
    Status.FAILED: "FAIL",
    Status.UPSTREAM_FAILED: "UPSTREAM FAILED",
}
_MARKS = {Status.SUCCEEDED: ".", Status.FAILED: "F", Status.UPSTREAM_FAILED: "U"}


def _count_line(label: str, total: int, failed: int, due_to_checks: int, skipped: int) -> str:
    """` ✓ Assets executed      3 succeeded`, or ` ✗ ...` with upstream's ` / `-joined parts."""
    succeeded = total - failed - due_to_checks - skipped
    if not (failed or due_to_checks or skipped):
        return f" ✓ {label.ljust(21)}{succeeded} succeeded"
    parts = [
        f"{count} {word}"
        for count, word in (
            (failed, "failed"), (due_to_checks, "failed due to checks"), (succeeded, "succeeded"), (skipped, "skipped")
        )
        if count
    ]  # fmt: skip
    return f" ✗ {label.ljust(21)}{' / '.join(parts) or '0'}"


def _duration(seconds: float) -> str:
    """A run's duration as upstream prints it: Go's `Duration.String()`, truncated to milliseconds."""
    return format_go_duration(int(seconds * 1000) * 1_000_000)


def _totals(results: Sequence[TaskResult]) -> list[tuple[Status, str, str]]:
    """Per status: how many, and the time spent by those that ran."""
    totals = []
    for status in Status:
        matching = [r for r in results if r.status is status]
        if matching:
            ran = status in (Status.SUCCEEDED, Status.FAILED)
            totals.append((status, str(len(matching)), f"{sum(r.duration for r in matching):.2f}s" if ran else "-"))
    return totals


_STYLES = {
    Status.SUCCEEDED: "green",
    Status.FAILED: "red",
    Status.UPSTREAM_FAILED: "yellow",
    Status.SKIPPED: "dim",
}


def _rich_summary(
    totals: list[tuple[Status, str, str]],
    check_totals: list[tuple[Status, str, str]],
    problems: list[tuple[str, Status, str]],
    width: int,
) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def totals_table(rows: list[tuple[Status, str, str]], noun: str) -> Table:
        table = Table(show_edge=False, pad_edge=False)
        for column, justify in (("Status", "left"), (noun, "right"), ("Time", "right")):
            table.add_column(column, justify=justify)
        for status, count, spent in rows:
            table.add_row(Text(status, _STYLES[status]), count, spent)
        return table

    problems_table = Table(show_edge=False, pad_edge=False)
    for column in ("Task", "Status", "Error"):
        problems_table.add_column(column, overflow="fold")
    for name, status, error in problems:
        problems_table.add_row(Text(name), Text(status, _STYLES[status]), Text(error))  # Text: no markup

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    console.print(totals_table(totals, "Assets"))
    if check_totals:
        console.print()
        console.print(totals_table(check_totals, "Checks"))
    if problems:
        console.print()
        console.print(problems_table)
    return buffer.getvalue()
