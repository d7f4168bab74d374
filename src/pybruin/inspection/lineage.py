"""Column-level lineage for `bruin internal parse-pipeline -c` / `parse-asset -c`, as upstream computes it.

Each SQL asset's query (rendered for "yesterday", without secrets) is parsed with sqlglot in the asset's
dialect, with the columns its upstream assets declare as the schema; upstreams are processed first, so a
column found by lineage flows on to the assets below it. The effects on the documents are upstream's:
every output column of the query becomes (or updates) a `columns[]` entry whose `upstreams` name the
source column and table, and each `upstreams[i].columns` lists every column of that upstream the query
reads, join keys and filters included. Problems become `lineage_issues` (parse-asset) — never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pybruin.documents import parse as doc
from pybruin.records import Record, field

if TYPE_CHECKING:
    from pybruin.pipeline.model import Asset

#: Asset type → sqlglot dialect, for the SQL types lineage understands.
DIALECTS = {
    "bq.sql": "bigquery", "sf.sql": "snowflake", "pg.sql": "postgres", "rs.sql": "redshift", "athena.sql": "athena",
    "ms.sql": "tsql", "synapse.sql": "tsql", "fabric.sql": "tsql", "databricks.sql": "databricks",
    "duckdb.sql": "duckdb", "motherduck.sql": "duckdb", "clickhouse.sql": "clickhouse", "my.sql": "mysql",
    "trino.sql": "trino", "oracle.sql": "oracle", "dremio.sql": "dremio", "vertica.sql": "postgres",
}  # fmt: skip


class QueryLineage(Record, frozen=False):
    """What one query reads: per output column its type and sources, plus the columns only filtered on."""

    columns: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    non_selected: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def add_column_lineage(
    documents: list[doc.AssetDocument], assets: Mapping[str, Asset], only: str | None = None
) -> list[doc.LineageIssue]:
    """Fill in the documents' column lineage (all of them, or `only` and its upstreams); the issues found."""
    by_name = {document.name: document for document in documents}
    done: set[str] = set()
    issues: list[doc.LineageIssue] = []

    def visit(document: doc.AssetDocument) -> None:
        if document.name in done:
            return
        done.add(document.name)
        for upstream in document.upstreams:
            if upstream.value in by_name:
                visit(by_name[upstream.value])
        problem = _asset_lineage(document, by_name, assets[document.name])
        if problem:
            issues.append(doc.LineageIssue(document.name, problem))

    for document in documents:
        if only is None or document.name == only:
            visit(document)
    return issues


def _asset_lineage(document: doc.AssetDocument, by_name: Mapping[str, doc.AssetDocument], asset: Asset) -> str:
    dialect = DIALECTS.get(document.type)
    if dialect is None:
        return ""
    for upstream in document.upstreams:
        if upstream.value not in by_name:
            return f"upstream asset not found: {upstream.value}"
    try:
        query = _rendered(asset)
    except Exception as exc:  # a template error is reported, as upstream reports it
        return str(exc)
    schema = {
        upstream.value: {column.name: column.type for column in by_name[upstream.value].columns if column.name}
        for upstream in document.upstreams
        if upstream.type == "asset" and by_name[upstream.value].columns
    }
    found = query_lineage(query, schema, dialect)
    if found.errors:
        return ", ".join(found.errors)
    _apply(document, found, by_name)
    return ""


def _rendered(asset: Asset) -> str:
    from pybruin.run.context import RunContext, default_interval, execution_time
    from pybruin.run.templating import render_sql

    start, end = default_interval()
    context = RunContext(start, end, execution_time(), "your-run-id", pipeline="")
    return render_sql(asset.content, context.template_values(asset.name), asset_name=asset.name)


def query_lineage(query: str, schema: Mapping[str, Mapping[str, str]], dialect: str) -> QueryLineage:
    """Output columns (name, type, sources) and filtered-on columns of `query`, read with sqlglot."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer import optimize
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.merge_subqueries import merge_subqueries
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope
    from sqlglot.optimizer.unnest_subqueries import unnest_subqueries

    result = QueryLineage()
    try:
        parsed = sqlglot.parse_one(query, dialect=dialect)
    except Exception as exc:
        result.errors.append(f"Parse error: {exc}")
        return result
    if not isinstance(parsed, exp.Query):
        result.errors.append("Failed to parse query")
        return result
    nested = _nested_schema(_aligned(schema, parsed))
    try:
        optimized = optimize(
            parsed, nested, dialect=dialect, rules=(qualify, unnest_subqueries, merge_subqueries, annotate_types)
        )
    except Exception:
        try:
            optimized = optimize(parsed, nested)
        except Exception as exc:
            result.errors.append(f"Schema Error: {exc}")
            return result
    select = optimized.find(exp.Select)
    if select is None:
        return result
    outputs = [(e.alias_or_name, str(e.type)) for e in select.expressions if not isinstance(e, exp.CTE)]
    scope = build_scope(optimized)
    for name, kind in sorted(outputs):
        try:
            node = lineage(name, optimized, schema, dialect=dialect, scope=scope, copy=False, trim_selects=False)
        except Exception:  # one unreadable column does not spoil the others
            continue
        sources = set()
        for leaf in _leaves(node):
            if isinstance(leaf.expression, exp.Table) and not isinstance(leaf.expression.this, exp.Literal):
                sources.add((leaf.name.split(".")[-1].strip('"'), _table_name(leaf.expression)))
        result.columns.append((name, kind, sorted(sources, key=lambda s: (s[1], s[0].lower()))))
    result.non_selected = _filtered_columns(optimized)
    return result


def _leaves(node: Any) -> Iterable[Any]:
    pending = [node]
    while pending:
        current = pending.pop()
        if current.downstream:
            pending.extend(reversed(current.downstream))
        else:
            yield current


def _table_name(table: Any) -> str:
    from sqlglot import exp

    parts = []
    for part in table.parts:
        if isinstance(part, exp.Identifier):
            parts.append(part.name)
        elif isinstance(part, exp.Anonymous):  # `table(nolock)`
            parts.append(part.this.name if isinstance(part.this, exp.Identifier) else str(part.this))
    return ".".join(parts)


def _filtered_columns(query: Any) -> list[tuple[str, str]]:
    """Columns of real tables used in WHERE, JOIN and GROUP BY: (column, table), sorted."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import find_all_in_scope

    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    tables = [t for t in query.find_all(exp.Table) if t.name and t.name not in ctes]
    names = {_table_name(t) for t in tables}
    aliases = {t.alias: _table_name(t) for t in tables if t.alias}
    found = set()
    for kind in (exp.Where, exp.Join, exp.Group):
        for clause in query.find_all(kind):
            for column in find_all_in_scope(clause, exp.Column):
                table = aliases.get(column.table, column.table)
                if table in names:
                    found.add((column.name, table))
    return sorted(found, key=lambda item: item[0] + item[1])


def _aligned(schema: Mapping[str, Mapping[str, str]], parsed: Any) -> dict[str, Mapping[str, str]]:
    """The schema with entries also under the casing the query uses for each table."""
    from sqlglot import exp

    in_query = {}
    for table in parsed.find_all(exp.Table):
        name = ".".join(part.name for part in table.parts if hasattr(part, "name"))
        if name:
            in_query[name.lower()] = name
    aligned = dict(schema)
    for key, columns in schema.items():
        aligned.setdefault(in_query.get(key.lower(), key), columns)
    return aligned


def _nested_schema(schema: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, columns in schema.items():
        *parents, table = path.split(".")
        level = nested
        for part in parents:
            level = level.setdefault(part, {})
        level[table] = dict(columns)
    return nested


# -- merging into the documents (upstream's rules) ----------------------------------------------


def _apply(document: doc.AssetDocument, found: QueryLineage, by_name: Mapping[str, doc.AssetDocument]) -> None:
    for name, kind, sources in found.columns:
        if name == "*":
            _merge_star(document, sources, by_name)
            continue
        if not sources:
            _add_column(document, _column(name, kind, []))
            continue
        for source_column, table in sources:
            if source_column == "*":
                continue
            upstream = _asset_named(by_name, table)
            if upstream is None:
                _add_column(document, _column(name, kind, [doc.ColumnUpstream(source_column, table.lower())]))
                continue
            existing = _column_named(upstream.columns, source_column)
            link = [doc.ColumnUpstream(source_column, upstream.name)]
            if existing is None:
                _add_column(document, _column(name, kind, link))
            else:
                _add_column(document, _copied(existing, name, link))
    _merge_read_columns(document, found)


def _merge_star(document: doc.AssetDocument, sources, by_name) -> None:
    for _, table in sources:
        upstream = _asset_named(by_name, table)
        if upstream is None:
            return
        for column in upstream.columns:
            _add_column(document, _copied(column, column.name, column.upstreams))
        return


def _merge_read_columns(document: doc.AssetDocument, found: QueryLineage) -> None:
    """Each upstream lists the columns the query reads of it: filtered-on ones, then selected ones' sources."""
    for upstream in document.upstreams:
        seen: set[str] = set()

        def read(table: str, column: str, upstream: doc.Upstream = upstream, seen: set[str] = seen) -> None:
            key = f"{table.lower()}-{column.lower()}"
            if key in seen or table.lower() != upstream.value.lower():
                return
            if not any(existing.name.lower() == column.lower() for existing in upstream.columns):
                seen.add(key)
                upstream.columns.append(doc.UpstreamColumn(column))

        for column, table in found.non_selected:
            if column != "*":
                read(table, column)
        for name, _, sources in found.columns:
            if name != "*":
                for source_column, table in sources:
                    read(table, source_column)
            else:
                for column in document.columns:
                    read(column.name, column.name)


def _column(name: str, kind: str, upstreams: list[doc.ColumnUpstream]) -> doc.Column:
    return doc.Column(None, name, "", "" if kind == "UNKNOWN" else kind, upstreams=list(upstreams))


def _copied(column: doc.Column, name: str, upstreams: list[doc.ColumnUpstream]) -> doc.Column:
    """An upstream column carried down: its metadata, without its checks, keys and default."""
    return doc.Column(
        entity_attribute=column.entity_attribute,
        name=name,
        source_column=column.source_column,
        type="" if column.type == "UNKNOWN" else column.type,
        mask=column.mask,
        description=column.description,
        tags=list(column.tags),
        update_on_merge=column.update_on_merge,
        merge_sql=column.merge_sql,
        nullable=column.nullable,
        precision=column.precision,
        scale=column.scale,
        length=column.length,
        collation=column.collation,
        owner=column.owner,
        domains=list(column.domains),
        meta=dict(column.meta),
        upstreams=list(upstreams),
    )


def _add_column(document: doc.AssetDocument, new: doc.Column) -> None:
    existing = _column_named(document.columns, new.name)
    if existing is None:
        document.columns.append(new)
        return
    existing.description = existing.description or new.description
    existing.type = existing.type or new.type
    for attribute in ("precision", "scale", "length", "entity_attribute"):
        if getattr(existing, attribute) is None:
            setattr(existing, attribute, getattr(new, attribute))
    existing.collation = existing.collation or new.collation
    existing.primary_key = existing.primary_key or new.primary_key
    existing.tags += [tag for tag in new.tags if tag not in existing.tags]
    existing.domains += [domain for domain in new.domains if domain not in existing.domains]
    existing.owner = existing.owner or new.owner
    existing.update_on_merge = new.update_on_merge
    for link in new.upstreams:
        if not any(
            e.column.lower() == link.column.lower() and e.table.lower() == link.table.lower()
            for e in existing.upstreams
        ):
            existing.upstreams.append(link)


def _column_named(columns: list[doc.Column], name: str) -> doc.Column | None:
    return next((column for column in columns if column.name.lower() == name.lower()), None)


def _asset_named(by_name: Mapping[str, doc.AssetDocument], table: str) -> doc.AssetDocument | None:
    return by_name.get(table) or next((d for n, d in by_name.items() if n.lower() == table.lower()), None)
