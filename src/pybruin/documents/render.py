"""`bruin render -o json`: the SQL the run executes for an asset (spec §2.5)."""

from __future__ import annotations

from pybruin.documents.encoding import document


@document
class RenderDocument:
    """The asset's query rendered with the run's context, materialized and wrapped in its hooks (or, with
    `--raw-query`, the rendered body alone). Printed without a trailing newline, as upstream writes it."""

    query: str
