"""What loading a seed CSV takes on any platform: its header, the declared types by CSV column, and, for
databases that cannot detect types themselves, a type for every other column."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from pybruin.errors import BruinError
from pybruin.pipeline.seeds import Seed

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_BOOLEANS = frozenset({"true", "false"})
_BIGINT = 2**63


def csv_rows(path: Path) -> Iterator[list[str]]:
    """The file's records, header first; a file that is not CSV text is one clear error."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from csv.reader(handle)
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise BruinError(f"cannot read the seed file {path.name}: {_reason(exc)}") from None


def csv_header(path: Path) -> list[str]:
    header = next(csv_rows(path), None)
    if not header:
        raise BruinError(f"cannot read the seed file {path.name}: it has no header row")
    return header


def declared_types(seed: Seed, header: Sequence[str]) -> dict[str, str]:
    """CSV column (as the header spells it) -> declared type, for the declared columns that have a type;
    none when the seed says `enforce_schema: false`."""
    if not seed.enforce_schema:
        return {}
    by_name = {column.name.lower(): column.sql_type for column in seed.columns if column.sql_type}
    return {name: by_name[name.lower()] for name in header if name.lower() in by_name}


def inferred_types(rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """A PostgreSQL type per column from its values (empty fields are NULLs): bigint, double precision,
    boolean, date, timestamp, else text."""
    return [_infer([row[index] for row in rows if index < len(row) and row[index] != ""]) for index in range(width)]


def _infer(values: list[str]) -> str:
    if not values:
        return "text"
    if all(_INTEGER.fullmatch(value) and -_BIGINT <= int(value) < _BIGINT for value in values):
        return "bigint"
    if all(_NUMBER.fullmatch(value) for value in values):
        return "double precision"
    if all(value.lower() in _BOOLEANS for value in values):
        return "boolean"
    if all(_DATE.fullmatch(value) for value in values):
        return "date"
    if all(_TIMESTAMP.fullmatch(value) for value in values):
        return "timestamp"
    return "text"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
