"""Upstream's Jinja filters for SQL templates: date arithmetic, formatting and truncation on date strings.

Each filter reads its input with the first of upstream's Go layouts that matches and prints the result in
that same layout (`'2024-03-15' | add_days(1)` stays a date, a timestamp stays a timestamp); `date_format`
takes Python strftime codes. Errors carry upstream's texts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from pybruin.run.godates import LayoutError, add_date, go_format, parse_filter_input, python_to_go_layout

_ATOI = re.compile(r"[+-]?[0-9]+")


class FilterError(Exception):
    """A filter refused its input or argument; the message is upstream's."""


def _shift(name: str, unit: str, move: Callable[[datetime, int], datetime]) -> Callable[..., str]:
    def shift(value: object, *args: object) -> str:
        if len(args) != 1:
            raise FilterError("'add_days' accept only a single argument")  # upstream's text, for every filter
        amount = str(args[0])
        if not _ATOI.fullmatch(amount):
            raise FilterError(f"invalid number of {unit} for {name}, it must be a valid integer, '{amount}' given")
        moment, layout = _parse(value)
        return go_format(move(moment, int(amount)), layout)

    return shift


def _truncate(cut: Callable[[datetime], datetime]) -> Callable[[object], str]:
    def truncate(value: object) -> str:
        moment, layout = _parse(value)
        return go_format(cut(moment), layout)

    return truncate


def _parse(value: object) -> tuple[datetime, str]:
    try:
        return parse_filter_input(str(value))
    except LayoutError:
        raise FilterError("invalid date format: invalid datetime format") from None


def date_format(value: object, *args: object) -> str:
    if len(args) != 1:
        raise FilterError("'add_days' accept only a single argument")
    try:
        moment, _ = parse_filter_input(str(value))
    except LayoutError:
        raise FilterError(f"invalid date format, {value} given") from None
    return go_format(moment, python_to_go_layout(str(args[0])))


add_days = _shift("add_days", "days", lambda moment, n: add_date(moment, days=n))

FILTERS: dict[str, Callable[..., str]] = {
    "add_days": add_days,
    "date_add": add_days,
    "add_hours": _shift("add_hours", "hours", lambda moment, n: moment + timedelta(hours=n)),
    "add_minutes": _shift("add_minutes", "minutes", lambda moment, n: moment + timedelta(minutes=n)),
    "add_seconds": _shift("add_seconds", "seconds", lambda moment, n: moment + timedelta(seconds=n)),
    "add_milliseconds": _shift(
        "add_milliseconds", "milliseconds", lambda moment, n: moment + timedelta(milliseconds=n)
    ),
    "add_months": _shift("add_months", "months", lambda moment, n: add_date(moment, months=n)),
    "add_years": _shift("add_years", "years", lambda moment, n: add_date(moment, years=n)),
    "date_format": date_format,
    "truncate_year": _truncate(lambda m: m.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)),
    "truncate_month": _truncate(lambda m: m.replace(day=1, hour=0, minute=0, second=0, microsecond=0)),
    "truncate_day": _truncate(lambda m: m.replace(hour=0, minute=0, second=0, microsecond=0)),
    "truncate_hour": _truncate(lambda m: m.replace(minute=0, second=0, microsecond=0)),
}
"""Filter name -> function, registered on every SQL template environment."""
