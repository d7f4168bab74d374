"""The end of a run: the summary people read and the manifest machines check."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pybruin.run.child_env import ReceivedSecret
from pybruin.run.files import write_atomically
from pybruin.run.scheduler import Status, TaskResult
from pybruin.tables import plain_table

if TYPE_CHECKING:
    from pybruin.plan import Task
    from pybruin.platforms.checks import CheckOutcome

MANIFEST_VERSION = 1
_FINE = (Status.SUCCEEDED, Status.SKIPPED)


@dataclass(frozen=True)
class CheckReport:
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


@dataclass
class RunReport:
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
        """Counts and time per status, then every asset that did not succeed, then one verdict line.

        Per-asset durations of successful assets are already in the `Finished:` lines and the manifest.
        On a terminal (`color`) the tables are rich; in logs and pipes they are plain aligned text, which
        reads better there and spares loading rich. Cells are masked before layout: a table may wrap a
        long error across lines, and a secret cut in two can no longer be recognised.
        """
        check_results = [check.result for check in self.checks]
        totals = _totals(self.results)
        check_totals = _totals(check_results)
        problems = [
            (result.name, result.status, mask(result.error or ""))
            for result in [*self.results, *check_results]
            if result.status in (Status.FAILED, Status.UPSTREAM_FAILED)
        ]
        verdict = "completed successfully" if self.succeeded else "completed with failures"
        closing = f"bruin run {verdict} in {self.duration:.2f}s"
        if not color:
            blocks = [plain_table(("Status", "Assets", "Time"), [(str(s), n, t) for s, n, t in totals])]
            if check_totals:
                blocks.append(plain_table(("Status", "Checks", "Time"), [(str(s), n, t) for s, n, t in check_totals]))
            if problems:
                blocks.append(plain_table(("Task", "Status", "Error"), [(a, str(s), e) for a, s, e in problems]))
            return "\n" + "\n\n".join(blocks) + "\n" + closing + "\n"
        return _rich_summary(totals, check_totals, problems, closing, width)


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
    closing: str,
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
    console.print()
    console.print(totals_table(totals, "Assets"))
    if check_totals:
        console.print()
        console.print(totals_table(check_totals, "Checks"))
    if problems:
        console.print()
        console.print(problems_table)
    console.print(closing)
    return buffer.getvalue()
