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
class DryRunDocument:
    """`bruin query --dry-run -o json`: whether the database accepts the query, and its plan."""

    connection_name: str = json_field("connectionName", default="")
    connection_type: str = json_field("connectionType", default="")
    query: str = ""
    valid: bool = False
    explain_plan: str = json_field("explainPlan", omit_empty=True, default="")
