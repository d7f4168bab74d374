"""`bruin query -o json`: columns, rows, the connection and the query that ran (spec §2.6)."""

from __future__ import annotations

from typing import Any

from pybruin.documents.encoding import document, json_field


@document
class QueryColumn:
    name: str
    type: str


@document
class QueryDocument:
    """A query's result; `query` is the SQL that ran (with the limit), without pybruin's annotation comment."""

    columns: list[QueryColumn]
    rows: list[list[Any]]
    connection_name: str = json_field("connectionName", default="")
    query: str = ""


@document
class ExportDocument:
    """`bruin query --export -o json`: the file the result was written to."""

    path: str = json_field("Results Successfully exported to", default="")


@document
class DryRunColumn:
    name: str
    type: str


@document
class DryRunDocument:
    """`bruin query --dry-run -o json`: whether the database accepts the query, and what it says about it —
    BigQuery its estimate (bytes, cost in USD at upstream's on-demand price, statement type, tables read,
    result schema), the others their `EXPLAIN` plan (its columns, and its rows; for a query the database
    rejected, one row holding the reason)."""

    connection_name: str = json_field("connectionName", default="")
    connection_type: str = json_field("connectionType", default="")
    query: str = ""
    valid: bool = False
    total_bytes_processed: int = json_field("totalBytesProcessed", omit_empty=True, default=0)
    estimated_cost_usd: float = json_field("estimatedCostUSD", omit_empty=True, default=0.0)
    statement_type: str = json_field("statementType", omit_empty=True, default="")
    referenced_tables: list[str] = json_field("referencedTables", omit_empty=True, default_factory=list)
    schema: list[DryRunColumn] = json_field(omit_empty=True, default_factory=list)
    explain_columns: list[str] = json_field("explainColumns", omit_empty=True, default_factory=list)
    explain_plan: list[list[Any]] = json_field("explainPlan", omit_empty=True, default_factory=list)
