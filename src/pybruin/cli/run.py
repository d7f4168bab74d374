"""`bruin run`: parse, plan, run, report."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.project import config_file_option, environment_option, load_target, open_connections, open_project
from pybruin.errors import BruinError
from pybruin.pipeline.dag import downstream_of
from pybruin.pipeline.validate import validate_pipeline
from pybruin.run.context import (
    RunContext,
    default_interval,
    execution_time,
    new_run_id,
    parse_date,
    parse_var_overrides,
    resolve_variables,
)
from pybruin.run.masking import Masker
from pybruin.run.output import RunOutput
from pybruin.run.runner import Runner, RunSettings
from pybruin.secrets.registry import is_backend_variable


class UnmaskedOutput(Masker):
    """`--mask-credentials=false`: accepts every secret and hides none."""

    def add(self, secret: str) -> bool:
        return True


@click.command("run")
@click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
@environment_option
@config_file_option
@click.option("--start-date", envvar="BRUIN_START_DATE", help="Start of the interval (default: yesterday).")
@click.option("--end-date", envvar="BRUIN_END_DATE", help="End of the interval (default: end of yesterday).")
@click.option("-r", "--full-refresh", is_flag=True, envvar="BRUIN_FULL_REFRESH", help="Rebuild from scratch.")
@click.option("--var", "variables", multiple=True, help="Override a pipeline variable: name=<json value>.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(min=1), help="Assets run at once.")
@click.option("--downstream", is_flag=True, help="With an asset file: also run everything downstream of it.")
@click.option(
    "--mask-credentials",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Mask credential values in output; --mask-credentials=false disables.",
)
@click.option("--pristine-env", is_flag=True, help="Start assets from a minimal environment.")
@click.option("--no-log-file", is_flag=True, help="Do not write logs/<run_id>__<pipeline>.log.")
@click.option("--no-timestamp", is_flag=True, help="No [HH:MM:SS] prefix on output lines.")
@click.option("--no-color", is_flag=True, help="Plain summary, no colours.")
@click.option("-o", "--output", "output_format", type=click.Choice(["plain", "json"]), default="plain")
@global_options
def command(
    path: Path,
    environment: str | None,
    config_file: str | None,
    start_date: str | None,
    end_date: str | None,
    full_refresh: bool,
    variables: tuple[str, ...],
    workers: int,
    downstream: bool,
    mask_credentials: bool,
    pristine_env: bool,
    no_log_file: bool,
    no_timestamp: bool,
    no_color: bool,
    output_format: str,
) -> None:
    """Run a pipeline, or one asset file of it."""
    app = state()
    project = open_project(path, config_file=config_file, environment=environment)
    pipeline, target = load_target(path)
    if downstream and target is None:
        raise BruinError("cannot use the --downstream flag when running the whole pipeline")
    problems = [i for i in validate_pipeline(pipeline, None) if i.severity == "error"]
    if problems:
        raise BruinError("validation failed: " + "; ".join(f"{i.asset or i.file}: {i.message}" for i in problems))

    start, end = default_interval()
    if start_date:
        start = parse_date(start_date, "--start-date")
    if end_date:
        end = parse_date(end_date, "--end-date")
    values, schema = resolve_variables(pipeline.variables, parse_var_overrides(variables))
    context = RunContext(
        start=start,
        end=end,
        execution=execution_time(),
        run_id=new_run_id(project.environ),
        pipeline=pipeline.name,
        full_refresh=full_refresh,
        commit=pipeline.commit,
        schema_prefix=project.environment.schema_prefix,
        variables=values,
        variables_schema=schema,
    )

    wanted = {target.name} | (downstream_of(pipeline, target.name) if downstream else set()) if target else None
    selected = [a.name for a in pipeline.assets if a.enabled and (wanted is None or a.name in wanted)]
    skipped = [a.name for a in pipeline.assets if not a.enabled and (wanted is None or a.name in wanted)]

    masker = app.masker if mask_credentials else UnmaskedOutput()
    terminal = sys.stderr.buffer if output_format == "json" else sys.stdout.buffer
    log_path = None if no_log_file else project.root / "logs" / f"{context.run_id}__{pipeline.name}.log"
    output = RunOutput(masker, terminal, log_path, timestamps=not no_timestamp)
    try:
        for connection in project.environment.connections.values():
            output.protect(connection)
        if not selected:
            output.line("No tasks to run.")
            return
        connections = open_connections(project, app.secrets_backend)
        try:
            backend_auth = connections.sdk_credentials

            def withheld(name: str) -> bool:
                return is_backend_variable(name) or name in backend_auth

            settings = RunSettings(
                project_root=project.root,
                parent_env=project.environ,
                withheld=withheld,
                workers=workers,
                pristine_env=pristine_env,
                debug=app.debug,
            )
            report = Runner(
                pipeline, context, connections, output, settings, environment_name=project.environment.name
            ).run(selected, skipped)
            color = not no_color and terminal.isatty() and "NO_COLOR" not in project.environ
            output.block(report.render_summary(color=color, mask=masker.mask, width=_terminal_width(terminal)))
            manifest = masker.mask(report.manifest_json())
            report.write_manifest(project.root / "logs" / "runs" / f"{context.run_id}.json", manifest)
        finally:
            connections.close()
    finally:
        output.close()
    if output_format == "json":
        sys.stdout.write(manifest)
        sys.stdout.flush()
    if not report.succeeded:
        raise click.exceptions.Exit(1)


def _terminal_width(terminal: BinaryIO) -> int:
    try:
        return max(80, os.get_terminal_size(terminal.fileno()).columns)
    except OSError:
        return 120
