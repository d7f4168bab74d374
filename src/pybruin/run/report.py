"""The end of a run: the summary people read and the manifest machines check."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pybruin.run.child_env import ReceivedSecret
from pybruin.run.scheduler import Status, TaskResult

MANIFEST_VERSION = 1


@dataclass
class RunReport:
    """Outcome of every asset of the run, in pipeline order, and what each could read."""

    run_id: str
    pipeline: str
    environment: str
    started_at: str
    duration: float
    results: list[TaskResult]
    received: Mapping[str, Sequence[ReceivedSecret]] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    #: Task id → the asset it belongs to (a main task's id is its asset's name).
    task_assets: Mapping[str, str] = field(default_factory=dict)
    #: Task id → whether it is a check (its result goes to the `Quality checks` line).
    task_checks: Mapping[str, bool] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return all(r.status in (Status.SUCCEEDED, Status.SKIPPED) for r in self.results)

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
                }
                for result in self.results
            ],
        }

    def manifest_json(self) -> str:
        return json.dumps(self.manifest(), indent=2) + "\n"

    def write_manifest(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)

    def render_summary(self, *, color: bool, mask: Callable[[str], str], width: int = 100) -> str:
        """Upstream's closing block (what tools grep), then, on a colour terminal, the tables people read.

        Per asset one `PASS`/`FAIL`/`UPSTREAM FAILED` row with a mark per check (`.`, `F`, `U`), the verdict
        line, the counts, and the tree of failures. Cells and errors are masked before layout: a table
        may wrap a long error across lines, and a secret cut in two can no longer be recognised.
        """
        lines = ["", "=" * 50, ""]
        rows = self._rows()
        lines += [f"{status} {asset} {marks}" for status, asset, marks in rows]
        verdict = "completed successfully" if self.succeeded else "completed with failures"
        lines += ["", "", f"bruin run {verdict} in {go_duration(self.duration)}", ""]
        lines += self._counts()
        failures = self._failure_tree(mask)
        if failures:
            lines += ["", "", *failures, ""]
        text = "\n".join(lines) + "\n"
        if not color:
            return text
        return text + _rich_summary(self._totals(), self._problems(mask), width)

    def render_minimal(self, mask: Callable[[str], str]) -> str:
        """`--minimal-logs`: one line of counts, and each failed task's error."""
        failed = [result for result in self.results if result.status is Status.FAILED]
        if not failed:
            ran = sum(result.status is Status.SUCCEEDED for result in self.results)
            return f"\n\nExecuted {ran} tasks in {go_duration(self.duration)}\n"
        details = "".join(f"\n  {self._asset(r.name)}: {mask(r.error or '')}\n" for r in failed)
        return f"\n\nFailed {len(failed)} tasks in {go_duration(self.duration)}\n{details}"

    def _asset(self, task: str) -> str:
        return self.task_assets.get(task, task)

    def _is_check(self, task: str) -> bool:
        return self.task_checks.get(task, False)

    def _rows(self) -> list[tuple[str, str, str]]:
        rows: dict[str, list[str]] = {}
        main: dict[str, Status] = {}
        for result in self.results:
            if result.status is Status.SKIPPED:
                continue
            asset = self._asset(result.name)
            marks = rows.setdefault(asset, [])
            if self._is_check(result.name):
                marks.append(_MARKS.get(result.status, ""))
            else:
                main[asset] = result.status
        return [(_ROW_STATUS.get(main.get(asset), "SKIP"), asset, "".join(marks)) for asset, marks in rows.items()]

    def _counts(self) -> list[str]:
        mains = [r for r in self.results if not self._is_check(r.name) and r.status is not Status.SKIPPED]
        checks = [r for r in self.results if self._is_check(r.name) and r.status is not Status.SKIPPED]
        failed_checks = {self._asset(r.name) for r in checks if r.status is Status.FAILED}
        lines = []
        if mains:
            failed = sum(r.status is Status.FAILED for r in mains)
            due_to_checks = sum(r.status is Status.SUCCEEDED and self._asset(r.name) in failed_checks for r in mains)
            skipped = sum(r.status is Status.UPSTREAM_FAILED for r in mains)
            lines.append(_count_line("Assets executed", len(mains), failed, due_to_checks, skipped))
        if checks:
            failed = sum(r.status is Status.FAILED for r in checks)
            skipped = sum(r.status is Status.UPSTREAM_FAILED for r in checks)
            lines.append(_count_line("Quality checks", len(checks), failed, 0, skipped))
        return lines

    def _failure_tree(self, mask: Callable[[str], str]) -> list[str]:
        by_asset: dict[str, list[str]] = {}
        for result in self.results:
            if result.status is not Status.FAILED:
                continue
            error = mask(result.error or "")
            asset = self._asset(result.name)
            if self._is_check(result.name):
                check = result.name.removeprefix(f"{asset}:")
                kind, _, name = check.partition(":")
                error = f"{name} custom check - {error}" if kind == "custom-check" else f"{kind}.{name} - {error}"
            by_asset.setdefault(asset, []).append(error)
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

    def _totals(self) -> list[tuple[Status, str, str]]:
        totals = []
        for status in Status:
            matching = [r for r in self.results if r.status is status]
            if matching:
                ran = status in (Status.SUCCEEDED, Status.FAILED)
                totals.append((status, str(len(matching)), f"{sum(r.duration for r in matching):.2f}s" if ran else "-"))
        return totals

    def _problems(self, mask: Callable[[str], str]) -> list[tuple[str, Status, str]]:
        return [
            (result.name, result.status, mask(result.error or ""))
            for result in self.results
            if result.status in (Status.FAILED, Status.UPSTREAM_FAILED)
        ]


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


def go_duration(seconds: float) -> str:
    """A duration as Go's `Duration.String()` prints it, truncated to milliseconds (`12ms`, `1.234s`, `2m3.5s`)."""
    milliseconds = int(seconds * 1000)
    if milliseconds == 0:
        return "0s"
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    text = f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


_STYLES = {
    Status.SUCCEEDED: "green",
    Status.FAILED: "red",
    Status.UPSTREAM_FAILED: "yellow",
    Status.SKIPPED: "dim",
}


def _rich_summary(totals: list[tuple[Status, str, str]], problems: list[tuple[str, Status, str]], width: int) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    totals_table = Table(show_edge=False, pad_edge=False)
    for column, justify in (("Status", "left"), ("Assets", "right"), ("Time", "right")):
        totals_table.add_column(column, justify=justify)
    for status, count, spent in totals:
        totals_table.add_row(Text(status, _STYLES[status]), count, spent)
    problems_table = Table(show_edge=False, pad_edge=False)
    for column in ("Asset", "Status", "Error"):
        problems_table.add_column(column, overflow="fold")
    for name, status, error in problems:
        problems_table.add_row(Text(name), Text(status, _STYLES[status]), Text(error))  # Text: no markup

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    console.print(totals_table)
    if problems:
        console.print()
        console.print(problems_table)
    return buffer.getvalue()
