"""How a Python asset's Arrow columns are typed when staged: each Arrow type's kind, each platform's name for
it, and one clear error for a column no platform here can hold."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pybruin.errors import BruinError
from pybruin.platforms.arrow_data import column_kind, column_type, decoded, utc_timestamps
from pybruin.platforms.mysql import ARROW_TYPES as MYSQL
from pybruin.platforms.postgres import ARROW_TYPES as POSTGRES


@pytest.mark.parametrize(
    ("arrow", "kind"),
    [
        (pa.bool_(), "boolean"), (pa.int8(), "int8"), (pa.uint64(), "uint64"), (pa.float16(), "float32"),
        (pa.float32(), "float32"), (pa.float64(), "float64"), (pa.decimal128(10, 2), "decimal"),
        (pa.date32(), "date"), (pa.time64("us"), "time"), (pa.timestamp("us"), "timestamp"),
        (pa.timestamp("ns", "Europe/Paris"), "timestamp_tz"), (pa.large_string(), "string"),
        (pa.binary(), "binary"), (pa.null(), "null"), (pa.list_(pa.int64()), None), (pa.duration("s"), None),
    ],
)  # fmt: skip
def test_every_arrow_type_has_one_kind_or_none(arrow: pa.DataType, kind: str | None) -> None:
    assert column_kind(arrow) == kind


def test_platform_names_and_refusals() -> None:
    assert column_type(pa.field("p", pa.decimal128(12, 3)), POSTGRES, "postgres") == "numeric(12, 3)"
    assert column_type(pa.field("u", pa.uint64()), MYSQL, "mysql") == "BIGINT UNSIGNED"
    with pytest.raises(BruinError, match=r"^column 'b' holds binary values, which pybruin cannot load into postgres"):
        column_type(pa.field("b", pa.binary()), POSTGRES, "postgres")
    with pytest.raises(BruinError, match=r"^column 'l' holds list<item: int64> values, which pybruin cannot load"):
        column_type(pa.field("l", pa.list_(pa.int64())), MYSQL, "mysql")


def test_categoricals_are_decoded_and_zoned_timestamps_become_utc() -> None:
    zoned = pa.array([0], pa.timestamp("s", "Asia/Tokyo"))
    table = pa.table({"c": pa.array(["x", "y", "x"]).dictionary_encode(), "t": pa.concat_arrays([zoned] * 3)})
    plain = utc_timestamps(decoded(table))
    assert plain.schema == pa.schema([("c", pa.string()), ("t", pa.timestamp("s"))])
    assert plain.column("c").to_pylist() == ["x", "y", "x"]
    assert str(plain.column("t")[0]) == "1970-01-01 00:00:00"
