"""`bruin query`: flags into `QuerySettings`, the answer printed as a table, JSON or CSV (masked)."""

from __future__ import annotations

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option


@click.command("query", cls=BruinCommand)
@click.option("-c", "--connection", help="The connection to query (direct mode, with --query).")
@click.option("-q", "--query", help="The SQL to run.")
@click.option("--asset", type=click.Path(exists=True, dir_okay=False), help="Query an asset (its SQL, or --query).")
@click.option("--pipeline", help="Only with --semantic-model (not supported).")
@click.option("--environment", "--env", "environment", help="The environment of .bruin.yml.")
@click.option("-l", "--limit", type=int, help="Limit the rows of a single SELECT.")
@click.option("-o", "--output", "output_format", default="plain", help="plain, json or csv.")
@click.option("-t", "--timeout", default=1000.0, type=float, help="Seconds before the query is cancelled.")
@click.option("--export", is_flag=True, help="Write the result to logs/exports/query_result_<ms>.csv.")
@click.option("--dry-run", is_flag=True, help="Check the query with EXPLAIN, without running it.")
@click.option("--start-date", envvar="BRUIN_START_DATE", help="start_date in the query's template.")
@click.option("--end-date", envvar="BRUIN_END_DATE", help="end_date in the query's template.")
@click.option("--var", "variables", multiple=True, help="A template variable: key=value (JSON for objects, arrays).")
@click.option("--description", help="Accepted for compatibility (upstream records it in its query log).")
@config_file_option
@global_options
def command(
    connection: str | None,
    query: str | None,
    asset: str | None,
    pipeline: str | None,
    environment: str | None,
    limit: int | None,
    output_format: str,
    timeout: float,
    export: bool,
    dry_run: bool,
    start_date: str | None,
    end_date: str | None,
    variables: tuple[str, ...],
    description: str | None,
    config_file: str | None,
) -> None:
    """Run a query on a connection, or an asset's query on its connection, and show the result."""
    from pathlib import Path

    from pybruin.errors import BruinError
    from pybruin.inspection.querying import QuerySettings, run_query

    app = state()
    if output_format == "json":
        app.json_output = True
    if pipeline:
        raise BruinError("--pipeline can only be used with --semantic-model")
    if dry_run and export:
        raise BruinError("--dry-run cannot be combined with --export")
    where = Path(asset) if asset else Path.cwd()
    settings = QuerySettings(
        project=app.project_settings(where, environment=environment, config_file=config_file),
        connection=connection,
        query=query,
        asset=Path(asset) if asset else None,
        limit=limit,
        timeout=timeout,
        start_date=start_date,
        end_date=end_date,
        variables=variables,
        dry_run=dry_run,
    )
    answer = run_query(settings, app.masker)
    mask = app.masker.mask
    if dry_run:
        _dry_run(answer, output_format, mask)
    elif export:
        _export(answer, where, output_format, mask)
    elif output_format in ("json", "plain", "csv"):
        click.echo(mask(_rendered(answer, output_format)), nl=output_format != "csv")
    else:  # upstream runs the query, then says so
        click.echo(f"Invalid output type: {output_format}")


def _rendered(answer, output_format: str) -> str:
    from pybruin.inspection.querying import cell_text, csv_text
    from pybruin.tables import light_table

    if output_format == "csv":
        return csv_text(answer.columns, answer.rows)
    if output_format == "json":
        from pybruin.documents.encoding import encode
        from pybruin.documents.query import QueryColumn, QueryDocument

        columns = [QueryColumn(name, kind) for name, kind in answer.columns]
        return encode(QueryDocument(columns, answer.rows, answer.connection_name, answer.query))
    if not answer.columns:
        return "Statement executed successfully"
    if not answer.rows:
        return "No data available"
    return light_table([name for name, _ in answer.columns], [[cell_text(v) for v in row] for row in answer.rows])


def _export(answer, where, output_format: str, mask) -> None:
    from pybruin.config.project import find_project_root
    from pybruin.documents.encoding import encode
    from pybruin.documents.query import ExportDocument
    from pybruin.inspection.querying import export_csv

    path = export_csv(find_project_root(where), answer.columns, answer.rows, mask)
    if output_format == "json":
        click.echo(encode(ExportDocument(str(path))))
    else:
        click.echo(f"Results Successfully exported to {path}")


def _dry_run(answer, output_format: str, mask) -> None:
    """Upstream's dry-run document or text: BigQuery's estimate, or the `EXPLAIN` plan as a table."""
    from pybruin.documents.encoding import encode
    from pybruin.documents.query import DryRunColumn, DryRunDocument
    from pybruin.inspection.querying import cell_text
    from pybruin.tables import light_table

    found = answer.dry_run
    plan_columns = [name for name, _ in answer.columns] or (["error"] if answer.rows else [])
    if output_format == "json":
        document = DryRunDocument(
            answer.connection_name, answer.connection_type, answer.query, answer.valid,
            total_bytes_processed=found.bytes_processed if found else 0,
            estimated_cost_usd=found.estimated_cost_usd if found else 0.0,
            statement_type=found.statement_type if found else "",
            referenced_tables=list(found.referenced_tables) if found else [],
            schema=[DryRunColumn(name, kind) for name, kind in found.schema] if found else [],
            explain_columns=plan_columns, explain_plan=answer.rows,
        )  # fmt: skip
        click.echo(mask(encode(document)))
        return
    if output_format == "csv":
        click.echo("CSV output is not supported for --dry-run; falling back to plain.", err=True)
    lines = ["Dry Run Results", f"Connection:  {answer.connection_name} ({answer.connection_type})",
             f"Valid:       {'Yes' if answer.valid else 'No'}"]  # fmt: skip
    if found and (found.bytes_processed or found.estimated_cost_usd):
        lines += ["", f"Estimated bytes processed: {_size(found.bytes_processed)}",
                  f"Estimated cost:            {_cost(found.estimated_cost_usd)}"]  # fmt: skip
    if found and found.statement_type:
        lines.append(f"Statement type:            {found.statement_type}")
    if found and found.referenced_tables:
        lines += ["", "Referenced tables:", *(f"  - {table}" for table in found.referenced_tables)]
    if found and found.schema:
        lines += ["", "Output schema:", light_table(["Column Name", "Type"], [list(column) for column in found.schema])]
    if answer.rows:
        rows = [[cell_text(value) for value in row] for row in answer.rows]
        lines += ["", "Query plan:", light_table(plan_columns, rows)]
    click.echo(mask("\n".join(lines)))


def _size(count: int) -> str:
    """Bytes as upstream shows them: `512 bytes`, `1.50 KB`, ... `2.00 TB` (powers of 1024)."""
    for unit, power in (("TB", 4), ("GB", 3), ("MB", 2), ("KB", 1)):
        if count >= 1024**power:
            return f"{count / 1024**power:.2f} {unit}"
    return f"{count} bytes"


def _cost(usd: float) -> str:
    """A cost as upstream shows it: `$0.00`, `$0.000012` below a cent, else `$1.23`."""
    if usd == 0:
        return "$0.00"
    return f"${usd:.6f}" if usd < 0.01 else f"${usd:.2f}"
