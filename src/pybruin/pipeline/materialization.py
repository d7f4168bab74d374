"""An asset's `materialization`, typed, and upstream's rules for it (`bruin validate`'s
`materialization-config`, with upstream's texts).

The header mapping stays as written on the asset (`Asset.materialization`); `Materialization.of` reads it
once for the strategies and the rules here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pybruin.pipeline.model import Asset
from pybruin.records import Record

#: Every strategy upstream knows, in upstream's order (its "available strategies" message lists them so).
STRATEGIES = (
    "create+replace", "delete+insert", "truncate+insert", "append", "merge", "time_interval", "ddl",
    "scd2_by_time", "scd2_by_column", "datavault_hub", "datavault_link", "datavault_satellite",
)  # fmt: skip
#: Strategies that take an `incremental_key`.
KEYED_STRATEGIES = frozenset({"delete+insert", "time_interval", "scd2_by_time", "scd2_by_column"})
#: Strategies upstream has that pybruin does not run (yet).
NOT_IMPLEMENTED = frozenset({"datavault_hub", "datavault_link", "datavault_satellite"})
_KEYS = "the 'primary_key' field to be set on at least one column"


def _text(value: object) -> str:
    return "" if value is None else str(value)


class Materialization(Record):
    """An asset's `materialization` block, its values as upstream reads them."""

    type: str = ""
    strategy: str = ""
    incremental_key: str = ""
    incremental_predicate: str = ""
    time_granularity: str = ""
    partition_by: str = ""
    cluster_by: tuple[str, ...] | None = None

    @classmethod
    def of(cls, header: Mapping[str, object]) -> Materialization:
        """From the header mapping (already lower-cased where upstream lower-cases)."""
        cluster_by = header.get("cluster_by")
        return cls(
            type=_text(header.get("type")).lower(),
            strategy=_text(header.get("strategy")).lower(),
            incremental_key=_text(header.get("incremental_key")),
            incremental_predicate=_text(header.get("incremental_predicate")),
            time_granularity=_text(header.get("time_granularity")).lower(),
            partition_by=_text(header.get("partition_by")),
            cluster_by=tuple(map(str, cluster_by)) if isinstance(cluster_by, list) else None,
        )

    @property
    def table_strategy(self) -> str:
        """The strategy a table is built with: `create+replace` when none is set."""
        return self.strategy or "create+replace"


def materialization_problems(asset: Asset) -> list[str]:
    """Upstream's materialization rules for a SQL asset, in upstream's order and words; empty when fine.

    Strategies pybruin does not run yet are reported too, naming the strategy.
    """
    return list(_problems(asset, Materialization.of(asset.materialization)))


def _problems(asset: Asset, mat: Materialization) -> Iterator[str]:
    if mat.type == "":
        return
    if mat.type == "view":
        if mat.strategy:
            yield "Materialization strategy is not supported for views"
        if mat.incremental_key:
            yield (
                "Materialization incremental key is not supported for views because views cannot be updated "
                "incrementally"
            )
        if mat.incremental_predicate:
            yield "Materialization incremental predicate is not supported for views"
        if mat.cluster_by is not None:
            yield "Materialization cluster by is not supported for views because views cannot be clustered"
        if mat.partition_by:
            yield "Materialization partition by is not supported for views because views cannot be partitioned"
        return
    if mat.type != "table":
        yield f"Materialization type '{mat.type}' is not supported, available types are: [view table]"
        return
    if mat.incremental_predicate and mat.strategy != "merge":
        yield "Incremental predicate is only supported with the 'merge' strategy."
    if not mat.strategy:
        return
    if mat.incremental_key and mat.strategy not in KEYED_STRATEGIES:
        yield (
            "Incremental key is only supported with 'delete+insert', 'time_interval', 'scd2_by_time' and "
            "'scd2_by_column' strategies."
        )
    yield from _strategy_problems(asset, mat)


def _strategy_problems(asset: Asset, mat: Materialization) -> Iterator[str]:
    keys = [column.name for column in asset.columns if column.primary_key]
    strategy = mat.strategy
    if strategy == "ddl" and asset.content.strip():
        yield "DDL strategy builds the table, from bruin metadata and does not accept a custom query"
    elif strategy == "delete+insert" and not mat.incremental_key:
        yield "Materialization strategy 'delete+insert' requires the 'incremental_key' field to be set"
    elif strategy == "merge":
        if not asset.columns:
            yield "Materialization strategy 'merge' requires the 'columns' field to be set with actual columns"
        if not keys:
            yield f"Materialization strategy 'merge' requires {_KEYS}"
    elif strategy == "scd2_by_column" and not keys:
        yield f"Materialization strategy 'scd2_by_column' requires {_KEYS}"
    elif strategy == "scd2_by_time":
        # Upstream's texts say "scd2_by_type".
        if not mat.incremental_key:
            yield "Materialization strategy 'scd2_by_type' requires the 'incremental_key' field to be set"
        if not keys:
            yield f"Materialization strategy 'scd2_by_type' requires {_KEYS}"
    elif strategy == "time_interval":
        if not mat.incremental_key:
            yield "Materialization strategy 'time_interval' requires the 'incremental_key' field to be set"
        if not mat.time_granularity:
            yield "Materialization strategy 'time_interval' requires the 'time_granularity' field to be set"
        if mat.time_granularity not in ("date", "timestamp"):
            yield "'time_granularity' can be either 'date' or 'timestamp'."
    elif strategy in NOT_IMPLEMENTED:
        yield f"materialization strategy '{strategy}' is not supported by pybruin yet"
    elif strategy not in STRATEGIES:
        yield (f"Materialization strategy '{strategy}' is not supported, available strategies are: "
               f"[{' '.join(STRATEGIES)}]")  # fmt: skip
