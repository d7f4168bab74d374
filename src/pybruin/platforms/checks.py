"""How a quality check is decided, on every platform: one query, one value, compared with what is expected.

A platform renders the query (`Platform.column_check_query`, `Platform.custom_check_query`, with
identifiers quoted and values quoted the platform's way); `evaluate` runs it on a session and reads the
single value it returns as upstream does (`helpers.CastResultToInteger`): booleans count as 1 or 0,
fractions are cut toward zero, text is read as a whole number, a number or a boolean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.records import Record

if TYPE_CHECKING:
    from pybruin.platforms.base import Session

#: Rows shown in a "more than one value" error; the rest is elided (upstream prints them all).
_ROWS_SHOWN = 5
_GO_BOOLS = {"1": 1, "t": 1, "T": 1, "TRUE": 1, "true": 1, "True": 1, "0": 0, "f": 0, "F": 0, "FALSE": 0, "false": 0,
             "False": 0}  # fmt: skip


class CheckQuery(Record):
    """A check ready to run: its name (in error messages), its SQL, the value that passes, and the
    message for any other value."""

    name: str
    sql: str
    expected: int
    describe: Callable[[int], str]


class CheckOutcome(Record):
    """What a check ran and the value it returned: None when the query failed or returned something other
    than one value (the check could not be decided)."""

    query: str
    value: int | None
    expected: int


class CheckFailed(BruinError):
    """A check that ran and did not pass; `outcome` is what `--single-check` and the manifest show."""

    def __init__(self, message: str, outcome: CheckOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def evaluate(session: Callable[[], AbstractContextManager[Session]], check: CheckQuery) -> CheckOutcome:
    """Run the check in a session `session()` opens: its outcome when it passes, `CheckFailed` otherwise
    (also when the database cannot be reached)."""
    undecided = CheckOutcome(check.sql, None, check.expected)
    try:
        with session() as opened:
            rows = opened.query(check.sql)
    except BruinError as exc:
        raise CheckFailed(f"failed '{check.name}' check: {exc}", undecided) from None
    try:
        value = result_as_integer(rows)
    except ValueError as exc:
        raise CheckFailed(f"failed to parse '{check.name}' check result: {exc}", undecided) from None
    outcome = CheckOutcome(check.sql, value, check.expected)
    if value != check.expected:
        raise CheckFailed(check.describe(value), outcome)
    return outcome


def result_as_integer(rows: Sequence[Sequence[object]]) -> int:
    """The one value of a one-row, one-column result as a whole number; ValueError (upstream's texts) else."""
    if len(rows) != 1 or len(rows[0]) != 1:
        raise ValueError(
            "multiple results are returned from query, please make sure your query just expects one value - "
            f"value: {_go_rows(rows)}"
        )
    value = rows[0][0]
    if value is None:
        raise ValueError("unexpected result from query, result is nil")
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float | Decimal) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        for parse in (_go_int, _go_float):
            number = parse(value)
            if number is not None:
                return number
        if value in _GO_BOOLS:
            return _GO_BOOLS[value]
        raise ValueError(f"unexpected result from query, cannot cast result string to integer: {_go_rows(rows)}")
    raise ValueError(f"unexpected result from query during, cannot cast result to integer: {_go_rows(rows)}")


def _go_int(text: str) -> int | None:
    digits = text[1:] if text[:1] in "+-" else text
    return int(text) if digits.isascii() and digits.isdigit() else None


def _go_float(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None


def _go_rows(rows: Sequence[Sequence[object]]) -> str:
    """Rows the way Go's `%v` prints them (`[[1 a] [2 b]]`), the first few only."""
    shown = ["[" + " ".join(map(_go_value, row)) + "]" for row in rows[:_ROWS_SHOWN]]
    if len(rows) > _ROWS_SHOWN:
        shown.append(f"... ({len(rows) - _ROWS_SHOWN} more rows)")
    return "[" + " ".join(shown) + "]"


def _go_value(value: object) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
