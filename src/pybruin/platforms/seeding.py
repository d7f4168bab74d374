"""What loading a seed CSV takes on any platform: its header, the declared types by CSV column, and, for
databases that cannot detect types themselves, a type for every other column and the records to insert.

Declared types are read as upstream's loader reads them: portable names (`integer`, `double`, `string`,
`varchar(50)`, `decimal(10, 2)`, `timestamp`, `json`, ...) map to one of a few kinds, and each platform
names each kind in its own SQL (`timestamp` is time-zone aware, `timestamp without time zone` is not). A
type the table does not know is given to the database as written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.pipeline.seeds import Seed
from pybruin.records import Record

if TYPE_CHECKING:
    from pybruin.platforms.base import Session

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_BOOLEANS = frozenset({"true", "false"})
_BIGINT = 2**63
#: The most values, and about the most bytes of text, one INSERT of seed rows carries.
INSERT_VALUES = 2000
INSERT_BYTES = 256 * 1024


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


_KINDS = {
    **dict.fromkeys(("tinyint", "byte", "smallint", "int2", "smallserial", "serial2", "short"), "smallint"),
    **dict.fromkeys(("int", "integer", "int4", "mediumint", "serial", "serial4", "year"), "int"),
    **dict.fromkeys(("bigint", "int8", "bigserial", "serial8", "long", "byteint", "oid"), "bigint"),
    **dict.fromkeys(("float", "float4", "float8", "float16", "float64", "double", "double precision", "real"),
                    "double"),
    **dict.fromkeys(("decimal", "numeric", "number", "dec", "money", "smallmoney", "bigdecimal"), "decimal"),
    **dict.fromkeys(("binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob", "bytea", "bytes", "image",
                     "raw", "long raw", "bit", "bit varying", "varbit"), "binary"),
    **dict.fromkeys(("boolean", "bool"), "bool"),
    "date": "date",
    **dict.fromkeys(("time", "time with time zone", "time without time zone", "timetz"), "time"),
    **dict.fromkeys(("datetime", "timestamp", "timestamp_ltz", "timestamp_tz", "timestamptz",
                     "timestamp with time zone", "datetimeoffset"), "timestamp"),
    **dict.fromkeys(("timestamp_ntz", "timestamp without time zone", "datetime2", "smalldatetime"), "timestamp_ntz"),
    "interval": "interval",
    **dict.fromkeys(("string", "char", "nchar", "varchar", "nvarchar", "text", "tinytext", "mediumtext", "longtext",
                     "clob", "nclob", "ntext", "character", "character varying", "bpchar", "citext", "name",
                     "longvarchar", "nvarchar2", "varchar2", "uuid", "uniqueidentifier", "guid", "xml", "enum", "set",
                     "inet", "cidr", "macaddr", "macaddr8"), "text"),
    **dict.fromkeys(("json", "jsonb", "variant", "object", "array", "struct", "map", "record", "super", "hstore",
                     "geometry", "geography"), "json"),
}  # fmt: skip
_SIZED = re.compile(r"^\s*([a-z_][a-z0-9_ ]*?)\s*(?:\((.*)\))?\s*$")


def declared_types(seed: Seed, header: Sequence[str], names: Mapping[str, str]) -> dict[str, str]:
    """CSV column (as the header spells it) -> the platform's type for its declared type, for the declared
    columns that have one; none when the seed says `enforce_schema: false`.

    `names` is the platform's type per kind (`int`, `text`, `decimal`, ...); sized kinds take `{}` for
    their arguments (`VARCHAR({})`), or have a `<kind>()` entry.
    """
    if not seed.enforce_schema:
        return {}
    by_name = {column.name.lower(): column.sql_type for column in seed.columns if column.sql_type}
    return {name: platform_type(by_name[name.lower()], names) for name in header if name.lower() in by_name}


def platform_type(declared: str, names: Mapping[str, str]) -> str:
    match = _SIZED.match(declared.lower())
    kind = _KINDS.get(" ".join(match.group(1).split())) if match else None
    if kind is None or match is None:
        return declared
    arguments = (match.group(2) or "").replace(" ", "")
    if arguments and f"{kind}()" in names:
        return names[f"{kind}()"].format(arguments)
    return names.get(kind, declared)


class SeedData(Record):
    """A seed's CSV read whole: the header, the platform's type of each column (declared, else inferred from the
    values), and the records, empty fields as None (NULL)."""

    header: list[str]
    types: list[str]
    records: list[list[str | None]]


def seed_data(seed: Seed, names: Mapping[str, str]) -> SeedData:
    """The seed's CSV, checked: a header, and as many fields in every record as it has (blank lines are
    skipped). `names` are the platform's types per kind (see `declared_types`)."""
    rows = [row for row in csv_rows(seed.path) if row]
    header = rows[0] if rows else []
    if not header:
        raise BruinError(f"cannot read the seed file {seed.path.name}: it has no header row")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise BruinError(
                f"cannot read the seed file {seed.path.name}: row {number} has {len(row)} fields, "
                f"the header has {len(header)}"
            )
    declared = declared_types(seed, header, names)
    inferred = inferred_kinds(rows[1:], len(header))
    return SeedData(
        header=header,
        types=[declared.get(name) or names[kind] for name, kind in zip(header, inferred, strict=True)],
        records=[[value if value != "" else None for value in row] for row in rows[1:]],
    )


def inferred_kinds(rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """A kind per column from its values (empty fields are NULLs): bigint, double, bool, date, timestamp_ntz,
    else text."""
    return [_infer([row[index] for row in rows if index < len(row) and row[index] != ""]) for index in range(width)]


def insert_statements(
    table: str, columns: Sequence[str], records: Sequence[Sequence[str | None]], placeholder: str
) -> Iterator[tuple[str, list[str | None]]]:
    """Multi-row INSERTs of `records` into `table` with bound values (`placeholder` is the driver's, `%s` or
    `?`), each statement at most `INSERT_VALUES` values and about `INSERT_BYTES` of text, so every platform's
    statement and parameter limits hold."""
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    if placeholder == "%s":
        head = head.replace("%", "%%")  # a name with % must not read as a placeholder
    row = "(" + ", ".join([placeholder] * len(columns)) + ")"

    def statement(batch: list[Sequence[str | None]]) -> tuple[str, list[str | None]]:
        return head + ", ".join([row] * len(batch)), [value for record in batch for value in record]

    batch: list[Sequence[str | None]] = []
    size = 0
    for record in records:
        record_size = sum(len(value) for value in record if value)
        if batch and ((len(batch) + 1) * len(columns) > INSERT_VALUES or size + record_size > INSERT_BYTES):
            yield statement(batch)
            batch, size = [], 0
        batch.append(record)
        size += record_size
    if batch:
        yield statement(batch)


def load_via_scratch(
    session: Session, *, create: str, scratch: str, columns: Sequence[str], records: Sequence[Sequence[str | None]],
    placeholder: str, build: str,
) -> None:  # fmt: skip
    """Make the `scratch` table (`create`), insert the records into it, then run `build`, which makes the target
    from it in one atomic step; `scratch` is dropped whatever happens (when it no longer exists, or the session
    is gone, nothing is)."""
    session.execute(create)
    try:
        for sql, values in insert_statements(scratch, columns, records, placeholder):
            session.query(sql, values)
        session.execute(build)
    finally:
        with suppress(BruinError):
            session.execute(f"DROP TABLE IF EXISTS {scratch}")


def cast_columns(columns: Sequence[str], types: Sequence[str], json_type: str, cast: Callable[[str], str] = str) -> str:
    """A select list turning text columns into their types: `CAST(c AS <cast(type)>)`, or `PARSE_JSON(c)` for
    the platform's JSON type (a cast would keep the text as a JSON string)."""
    return ", ".join(
        f"PARSE_JSON({column}) AS {column}" if kind == json_type else f"CAST({column} AS {cast(kind)}) AS {column}"
        for column, kind in zip(columns, types, strict=True)
    )


def _infer(values: list[str]) -> str:
    if not values:
        return "text"
    if all(_INTEGER.fullmatch(value) and -_BIGINT <= int(value) < _BIGINT for value in values):
        return "bigint"
    if all(_NUMBER.fullmatch(value) for value in values):
        return "double"
    if all(value.lower() in _BOOLEANS for value in values):
        return "bool"
    if all(_DATE.fullmatch(value) for value in values):
        return "date"
    if all(_TIMESTAMP.fullmatch(value) for value in values):
        return "timestamp_ntz"
    return "text"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
