"""Pre and post hooks: which assets inherit the pipeline's, and how they wrap an asset's SQL.

Hooks belong to SQL assets. They are joined with the asset's (materialized) SQL into one script, so they
run on the same connection, in the same session, and inside or outside the asset's transaction exactly
where their statements fall.
"""

from __future__ import annotations

from pybruin.pipeline.model import Hooks

#: Upstream's SQL asset types: the only ones that run hooks and inherit the pipeline's default hooks.
SQL_ASSET_TYPES = frozenset({
    "bq.sql", "sf.sql", "pg.sql", "my.sql", "rs.sql", "ms.sql", "vertica.sql", "databricks.sql", "synapse.sql",
    "fabric.sql", "fabric.spark_sql", "fw.sql", "athena.sql", "duckdb.sql", "motherduck.sql", "clickhouse.sql",
    "doris.sql", "starrocks.sql", "trino.sql", "dremio.sql", "sail.sql", "spark.sql", "oracle.sql",
})  # fmt: skip


def inherited_hooks(asset_type: str, own: Hooks, defaults: Hooks) -> Hooks:
    """The asset's hooks: `pre` and `post` each taken from the pipeline's defaults when the asset sets none
    of that kind, for SQL assets whose type the defaults' `applicable_type` (when set) lists."""
    if asset_type not in SQL_ASSET_TYPES or (defaults.applicable_types and asset_type not in defaults.applicable_types):
        return own
    return Hooks(own.pre or defaults.pre, own.post or defaults.post, own.applicable_types)


def wrap_hooks(script: str, pre: tuple[str, ...], post: tuple[str, ...]) -> str:
    """`pre1;\\npre2;\\n<script>;\\npost1;`: each part trimmed and ended with `;`, empty hooks dropped.

    Without hooks the script is returned unchanged.
    """
    before, after = _statements(pre), _statements(post)
    if not before and not after:
        return script
    return "\n".join([*before, *_statements((script,)), *after])


def terminated(statement: str) -> str:
    """`statement` ended with `;`, on a line of its own when the last line could end in a `--` comment
    (which would swallow it: upstream's behaviour, fixed here)."""
    if statement.endswith(";"):
        return statement
    return statement + ("\n;" if "--" in statement.rsplit("\n", 1)[-1] else ";")


def _statements(queries: tuple[str, ...]) -> list[str]:
    return [terminated(text) for text in (query.strip() for query in queries) if text]
