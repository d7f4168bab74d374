"""`bruin run`: flags into `RunSettings`, then the run session (`pybruin.run.session`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option, environment_option


@click.command("run", cls=BruinCommand)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@environment_option
@config_file_option
@click.option("--start-date", envvar="BRUIN_START_DATE", help="Start of the interval (default: yesterday).")
@click.option("--end-date", envvar="BRUIN_END_DATE", help="End of the interval (default: end of yesterday).")
@click.option("-r", "--full-refresh", is_flag=True, envvar="BRUIN_FULL_REFRESH", help="Rebuild from scratch.")
@click.option(
    "--apply-interval-modifiers", is_flag=True, help="Shift each asset's interval by its interval_modifiers."
)
@click.option("--var", "variables", multiple=True, help="Override a pipeline variable: name=<json value>.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(min=1), help="Assets run at once.")
@click.option("--downstream", is_flag=True, help="With an asset file: also run everything downstream of it.")
@click.option("-t", "--tag", help="Run only the assets carrying this tag.")
@click.option("-x", "--exclude-tag", "exclude_tags", multiple=True, help="Skip the assets carrying this tag.")
@click.option("--only", multiple=True, help="Run only these task types: main, checks, push-metadata (repeatable).")
@click.option("--single-check", help="Run only the check with this id (see `bruin internal parse-asset`).")
@click.option("--continue", "resume", is_flag=True, help="Run again what the last run left failed or not run.")
@click.option("--no-validation", is_flag=True, help="Skip the validation before the run.")
@click.option("--minimal-logs", is_flag=True, hidden=True, help="Only the validation and a closing line.")
@click.option("-f", "--force", is_flag=True, help="Accepted for compatibility: pybruin never prompts.")
@click.option("--push-metadata", is_flag=True, help="Push metadata to the warehouse (not supported yet).")
@click.option("--sensor-mode", default="", help="How sensor assets run: skip, once or wait.")
@click.option("--variant", help="The pipeline variant to run (variants are not supported yet).")
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
@click.option(
    "--allow-debugging",
    is_flag=True,
    help="Let debuggers attach to Python assets: they stay dumpable and get their secrets in their environment.",
)
@click.option("--no-log-file", is_flag=True, help="Do not write logs/<run_id>__<pipeline>.log.")
@click.option("--no-timestamp", is_flag=True, help="No [HH:MM:SS] prefix on output lines.")
@click.option("--no-color", is_flag=True, help="Plain summary, no colours.")
@click.option("-o", "--output", "output_format", type=click.Choice(["plain", "json"]), default="plain")
@global_options
def command(
    paths: tuple[Path, ...],
    environment: str | None,
    config_file: str | None,
    start_date: str | None,
    end_date: str | None,
    full_refresh: bool,
    apply_interval_modifiers: bool,
    variables: tuple[str, ...],
    workers: int,
    downstream: bool,
    tag: str | None,
    exclude_tags: tuple[str, ...],
    only: tuple[str, ...],
    single_check: str | None,
    resume: bool,
    no_validation: bool,
    minimal_logs: bool,
    force: bool,
    push_metadata: bool,
    sensor_mode: str,
    variant: str | None,
    mask_credentials: bool,
    pristine_env: bool,
    allow_debugging: bool,
    no_log_file: bool,
    no_timestamp: bool,
    no_color: bool,
    output_format: str,
) -> None:
    """Run a pipeline, or asset files of it (with --downstream, what depends on them too)."""
    from pybruin.errors import BruinError
    from pybruin.run.session import RunSettings, run_pipeline

    if push_metadata:
        raise BruinError("--push-metadata is not supported by pybruin yet")
    if variant:
        raise BruinError("variants in pipeline.yml are not supported by pybruin yet (--variant)")
    if sensor_mode not in ("", "skip", "once", "wait"):
        raise BruinError(f"invalid value for '--mode' flag: '{sensor_mode}', valid options are --skip ,--once, --wait")
    app = state()
    settings = RunSettings(
        project=app.project_settings(
            paths[0] if paths else Path("."), environment=environment, config_file=config_file
        ),
        targets=paths if len(paths) > 1 else (),
        start_date=start_date,
        end_date=end_date,
        full_refresh=full_refresh,
        apply_interval_modifiers=apply_interval_modifiers,
        variables=variables,
        workers=workers,
        downstream=downstream,
        tag=tag,
        exclude_tags=exclude_tags,
        only=only,
        single_check=single_check,
        resume=resume,
        validation=not no_validation,
        minimal_logs=minimal_logs,
        force=force,
        sensor_mode=sensor_mode,
        mask_credentials=mask_credentials,
        pristine_env=pristine_env,
        allow_debugging=allow_debugging,
        log_file=not no_log_file,
        timestamps=not no_timestamp,
        color=not no_color,
        debug=app.debug,
        cmdline=("bruin", *sys.argv[1:]),
    )
    json_output = output_format == "json"
    outcome = run_pipeline(settings, app.masker, sys.stderr.buffer if json_output else sys.stdout.buffer)
    if json_output and outcome.manifest is not None:
        sys.stdout.write(outcome.manifest)
        sys.stdout.flush()
    if outcome.exit_code:
        raise click.exceptions.Exit(outcome.exit_code)
