"""What loading a seed CSV takes on any platform: its header, the declared types by CSV column, and, for
databases that cannot detect types themselves, a type for every other column.

Declared types are read as upstream's loader reads them: portable names (`integer`, `double`, `string`,
`varchar(50)`, `decimal(10, 2)`, `timestamp`, `json`, ...) map to one of a few kinds, and each platform
names each kind in its own SQL (`timestamp` is time-zone aware, `timestamp without time zone` is not). A
type the table does not know is given to the database as written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
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
