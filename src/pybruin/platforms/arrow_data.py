"""What staging the data of a Python asset (the Arrow table its `materialize()` returned) takes on any platform:
dictionary columns decoded, time-zone-aware timestamps as UTC where a database has no such type, and each
column's SQL type, which each platform names from the column's kind.

Kinds are `boolean`, `int8` ... `int64`, `uint8` ... `uint64`, `float32`, `float64`, `decimal` (with
`{precision}` and `{scale}`), `date`, `time`, `timestamp`, `timestamp_tz`, `string`, `binary` and `null`
(a column of nothing but nulls). A kind a platform does not name, or an Arrow type of no kind (lists,
structs, durations), is one clear error naming the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pybruin.errors import BruinError

if TYPE_CHECKING:
    import pyarrow as pa


def decoded(data: pa.Table) -> pa.Table:
    """The table with dictionary columns (pandas categoricals) as plain columns of their values."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(field.type) for field in data.schema):
        return data
    fields = [field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
              for field in data.schema]  # fmt: skip
    return data.cast(pa.schema(fields))


def utc_timestamps(data: pa.Table) -> pa.Table:
    """The table with time-zone-aware timestamps as plain timestamps of their UTC time (for databases whose
    timestamps have no zone, and drivers that would drop it)."""
    import pyarrow as pa

    if not any(pa.types.is_timestamp(field.type) and field.type.tz for field in data.schema):
        return data
    fields = [field.with_type(pa.timestamp(field.type.unit)) if pa.types.is_timestamp(field.type) else field
              for field in data.schema]  # fmt: skip
    return data.cast(pa.schema(fields))


def column_kind(kind: pa.DataType) -> str | None:
    """The kind of an Arrow type (module docstring); None for types of no kind."""
    import pyarrow as pa

    types = pa.types
    if types.is_boolean(kind):
        return "boolean"
    if types.is_integer(kind):
        return str(kind)  # int8 ... uint64
    if types.is_floating(kind):
        return "float64" if types.is_float64(kind) else "float32"
    if types.is_decimal(kind):
        return "decimal"
    if types.is_date(kind):
        return "date"
    if types.is_time(kind):
        return "time"
    if types.is_timestamp(kind):
        return "timestamp_tz" if kind.tz else "timestamp"
    if types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind):
        return "string"
    if types.is_binary(kind) or types.is_large_binary(kind) or types.is_fixed_size_binary(kind):
        return "binary"
    if types.is_null(kind):
        return "null"
    return None


def column_type(field: pa.Field, names: Mapping[str, str], platform: str) -> str:
    """The platform's SQL type for one column, from `names` (kind -> type; `decimal` formats `{precision}` and
    `{scale}`)."""
    kind = column_kind(field.type)
    name = names.get(kind) if kind else None
    if name is None:
        raise BruinError(
            f"column '{field.name}' holds {field.type} values, which pybruin cannot load into {platform} yet"
        )
    if kind == "decimal":
        return name.format(precision=field.type.precision, scale=field.type.scale)
    return name
