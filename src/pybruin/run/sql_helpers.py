"""`bruin.*` in SQL templates: upstream's SQL-generating helpers (`bruin.group_by(3)`,
`bruin.safe_divide('a', 'b')`, `bruin.pivot(...)`, ...), with the DuckDB, PostgreSQL and Redshift variants.

Each helper returns SQL text, byte for byte what upstream's returns, for the asset's platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

_NULL_SENTINEL = "_bruin_surrogate_key_null_"


def _strings(args: Sequence[object]) -> list[str]:
    """Upstream's argument rule: one list argument is the list, else every argument."""
    if not args:
        return []
    if isinstance(args[0], list | tuple):
        return [str(item) for item in args[0]]
    return [str(arg) for arg in args]


def group_by(n: int) -> str:
    return "group by " + ", ".join(str(i + 1) for i in range(int(n)))


def safe_divide(numerator: object, denominator: object) -> str:
    return f"({numerator}) / nullif(({denominator}), 0)"


def _safe_arithmetic(operator: str) -> Callable[..., str]:
    def arithmetic(*args: object) -> str:
        return operator.join(f"coalesce({field}, 0)" for field in _strings(args))

    return arithmetic


def _surrogate_key(concat: Callable[[list[str]], str]) -> Callable[..., str]:
    def surrogate_key(*args: object) -> str:
        fields = _strings(args)
        if not fields:
            return ""
        parts: list[str] = []
        for index, field in enumerate(fields):
            parts.append(f"coalesce(cast({field} as varchar), '{_NULL_SENTINEL}')")
            if index < len(fields) - 1:
                parts.append("'-'")
        return f"md5({concat(parts)})"

    return surrogate_key


def _concat_function(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"concat({', '.join(parts)})"


def _true(value: object) -> bool:
    return bool(value)


def pivot(*args: object, **kwargs: object) -> str:
    if len(args) < 2:
        return "/* pivot requires at least 2 arguments: column, values */"
    column = str(args[0])
    values = [str(v) for v in args[1]] if isinstance(args[1], list | tuple) else [str(args[1])]
    alias = _true(kwargs.get("alias", True))
    agg = str(kwargs.get("agg", "sum"))
    cmp = str(kwargs.get("cmp", "="))
    prefix, suffix = str(kwargs.get("prefix", "")), str(kwargs.get("suffix", ""))
    then_value, else_value = str(kwargs.get("then_value", "1")), str(kwargs.get("else_value", "0"))
    quote_identifiers = _true(kwargs.get("quote_identifiers", True))
    distinct = "distinct " if _true(kwargs.get("distinct", False)) else ""
    parts = []
    for value in values:
        escaped = value.replace("'", "''")
        expression = (
            f"{agg}(\n        {distinct}case\n        when {column} {cmp} '{escaped}'\n            then {then_value}\n"
            f"        else {else_value}\n        end\n    )"
        )
        if alias:
            name = prefix + value + suffix
            quoted = '"' + name.replace('"', '""') + '"' if quote_identifiers else slugify(name)
            expression += "\n        as " + quoted
        parts.append(expression)
    return ",\n    ".join(parts)


def haversine_distance(*args: object, **kwargs: object) -> str:
    if len(args) < 4:
        raise ValueError("haversine_distance requires 4 arguments: lat1, lon1, lat2, lon2")
    lat1, lon1, lat2, lon2 = (str(arg) for arg in args[:4])
    unit = str(kwargs["unit"]) if "unit" in kwargs else str(args[4]) if len(args) > 4 else "mi"
    rates = {"mi": "1", "km": "1.60934"}
    if unit not in rates:
        raise ValueError(f'haversine_distance unit must be \'mi\' or \'km\', got "{unit}"')
    return (
        f"2 * 3961 * asin(sqrt(power((sin(radians(({lat2} - {lat1}) / 2))), 2) +\n"
        f"    cos(radians({lat1})) * cos(radians({lat2})) *\n"
        f"    power((sin(radians(({lon2} - {lon1}) / 2))), 2))) * {rates[unit]}"
    )


def degrees_to_radians(degrees: object) -> str:
    return f"acos(-1) * {degrees} / 180"


def width_bucket(expr: object, min_value: object, max_value: object, num_buckets: object) -> str:
    size = f"((cast({max_value} as numeric) - cast({min_value} as numeric)) / cast({num_buckets} as numeric))"
    return f"""case
        when cast({expr} as numeric) < cast({min_value} as numeric) then 0
        when cast({expr} as numeric) >= cast({max_value} as numeric) then cast({num_buckets} as numeric) + 1
        when mod(cast({expr} as numeric) - cast({min_value} as numeric), {size}) = 0
            then ceil((cast({expr} as numeric) - cast({min_value} as numeric)) / {size}) + 1
        else ceil((cast({expr} as numeric) - cast({min_value} as numeric)) / {size})
    end"""


def deduplicate(relation: object, partition_by: object, order_by: object) -> str:
    return f"""with row_numbered as (
        select
            _inner.*,
            row_number() over (
                partition by {partition_by}
                order by {order_by}
            ) as __bruin_row_number
        from {relation} as _inner
    )

    select
        distinct data.*
    from {relation} as data
    natural join row_numbered
    where row_numbered.__bruin_row_number = 1"""


def deduplicate_qualify(relation: object, partition_by: object, order_by: object) -> str:
    return f"""select *
    from {relation} as _bruin_source
    qualify
        row_number() over (
            partition by {partition_by}
            order by {order_by}
        ) = 1"""


def deduplicate_distinct_on(relation: object, partition_by: object, order_by: object) -> str:
    return f"""select
        distinct on ({partition_by}) *
    from {relation}
    order by {partition_by}, {order_by}"""


def generate_series(upper_bound: int) -> str:
    bound = int(upper_bound)
    powers = max(1, (bound - 1).bit_length()) if bound > 1 else 1
    terms = "\n        + ".join(f"p{i}.generated_number * power(2, {i})" for i in range(powers))
    joins = "\n        cross join ".join(f"p as p{i}" for i in range(powers))
    ctes = (
        "with p as (\n        select 0 as generated_number union all select 1\n    ), unioned as (\n\n"
        f"        select\n\n        {terms}\n        + 1\n        as generated_number\n\n        from\n\n"
        f"        {joins}\n\n    )"
    )
    return (
        f"{ctes}\n\n    select *\n    from unioned\n    where generated_number <= {bound}\n"
        "    order by generated_number"
    )


def duckdb_generate_series(upper_bound: int) -> str:
    return (
        f"select generated_number\nfrom generate_series(1, {int(upper_bound)}) as t(generated_number)\n"
        "order by generated_number"
    )


def _timestamp_part(datepart: str) -> bool:
    return datepart.lower() in ("hour", "minute", "second", "millisecond", "microsecond")


def _step(datepart: str) -> str:
    return {"quarter": "3 month", "week": "7 day"}.get(datepart, f"1 {datepart}")


def _recursive_date_spine(date_add: Callable[[str, str, str], str]) -> Callable[[object, object, object], str]:
    def date_spine(datepart: object, start: object, end: object) -> str:
        column = f"date_{datepart}"
        following = date_add(str(datepart), "(n + 1)", str(start))
        return f"""with recursive date_spine(n, {column}) as (

    select 0 as n, {start} as {column}
    where {start} < {end}

    union all

    select n + 1, {following}
    from date_spine
    where {following} < {end}

)

select {column}
from date_spine"""

    return date_spine


def duckdb_date_spine(datepart: object, start: object, end: object) -> str:
    part = str(datepart)
    column = f"date_{part}"
    cast = "timestamp" if _timestamp_part(part) else "date"
    selected = column if _timestamp_part(part) else f"cast({column} as date)"
    return (
        f"select {selected} as {column}\n"
        f"from generate_series(cast({start} as {cast}), cast({end} as {cast}), interval '{_step(part)}') "
        f"as t({column})\n"
        f"where {column} < cast({end} as {cast})"
    )


def postgres_date_spine(datepart: object, start: object, end: object) -> str:
    part = str(datepart)
    column = f"date_{part}"
    selected = column if _timestamp_part(part) else f"cast({column} as date)"
    return (
        f"select {selected} as {column}\n"
        f"from generate_series(cast({start} as timestamp), cast({end} as timestamp), interval '{_step(part)}') "
        f"as t({column})\nwhere {column} < cast({end} as timestamp)"
    )


def _redshift_date_spine(datepart: object, start: object, end: object) -> str:
    spine = _recursive_date_spine(lambda part, n, first: f"dateadd({part}, {n}, {first})")
    return spine(datepart, f"cast({start} as timestamp)", f"cast({end} as timestamp)")


def slugify(text: object) -> str:
    value = str(text)
    if not value:
        return ""
    value = re.sub(r"[^a-z0-9_]+", "", re.sub(r"[ -]+", "_", value.lower()))
    return "_" + value if re.match(r"[0-9]", value) else value


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _stripped(field: object) -> str:
    return f"replace(replace(replace({field}, 'android-app://', ''), 'http://', ''), 'https://', '')"


def get_url_host(field: object) -> str:
    return f"split_part(split_part({_stripped(field)}, '/', 1), '?', 1)"


def get_url_parameter(field: object, parameter: object) -> str:
    query = f"case when position('?' in {field}) > 0 then split_part({field}, '?', 2) else {field} end"
    return f"nullif(split_part(split_part(concat('&', {query}), {_literal(f'&{parameter}=')}, 2), '&', 1), '')"


def _url_path(field: object) -> str:
    url = _stripped(field)
    return f"case when position('/' in {url}) > 0 then split_part(right({url}, length({url}) - position('/' in {url})), '?', 1) else '' end"  # noqa: E501


def get_url_path(field: object) -> str:
    return f"cast({_url_path(field)} as varchar)"


def _split_part_url_helpers(cast_type: str) -> dict[str, Callable[..., str]]:
    return {
        "get_url_host": lambda field: f"cast({get_url_host(field)} as {cast_type})",
        "get_url_parameter": get_url_parameter,
        "get_url_path": lambda field: f"cast({_url_path(field)} as {cast_type})",
    }


DEFAULT: Mapping[str, Callable[..., str]] = MappingProxyType({
    "group_by": group_by,
    "safe_divide": safe_divide,
    "safe_add": _safe_arithmetic(" +\n    "),
    "safe_subtract": _safe_arithmetic(" -\n    "),
    "generate_surrogate_key": _surrogate_key(_concat_function),
    "pivot": pivot,
    "haversine_distance": haversine_distance,
    "degrees_to_radians": degrees_to_radians,
    "width_bucket": width_bucket,
    "deduplicate": deduplicate,
    "generate_series": generate_series,
    "date_spine": _recursive_date_spine(lambda part, n, first: f"dateadd({part}, {n}, {first})"),
    "slugify": slugify,
    "get_url_host": get_url_host,
    "get_url_parameter": get_url_parameter,
    "get_url_path": get_url_path,
})  # fmt: skip

BY_PLATFORM: Mapping[str, Mapping[str, Callable[..., str]]] = MappingProxyType({
    "duckdb": MappingProxyType({**DEFAULT, **_split_part_url_helpers("varchar"), "deduplicate": deduplicate_qualify,
                                "date_spine": duckdb_date_spine, "generate_series": duckdb_generate_series}),
    "postgres": MappingProxyType({**DEFAULT, **_split_part_url_helpers("varchar"),
                                  "deduplicate": deduplicate_distinct_on, "date_spine": postgres_date_spine}),
    "redshift": MappingProxyType({**DEFAULT, **_split_part_url_helpers("varchar"),
                                  "generate_surrogate_key": _surrogate_key(" || ".join),
                                  "deduplicate": deduplicate_qualify, "date_spine": _redshift_date_spine}),
})  # fmt: skip
"""Upstream's platform of an asset type's prefix -> its helpers."""

_PLATFORM_OF_PREFIX = {"duckdb": "duckdb", "motherduck": "duckdb", "pg": "postgres", "rs": "redshift"}


def helpers_for(asset_type: str) -> Mapping[str, Callable[..., str]]:
    """The helpers a template of an `asset_type` asset sees (the defaults for platforms without variants)."""
    platform = _PLATFORM_OF_PREFIX.get(asset_type.partition(".")[0])
    return BY_PLATFORM[platform] if platform else DEFAULT
