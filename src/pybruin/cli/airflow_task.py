"""`bruin airflow-task SPEC`: one task of a DAG built by `pybruin.airflow`, run in the worker (hidden)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option


@click.command("airflow-task", cls=BruinCommand, hidden=True)
@click.argument("spec")
@click.option("--result", "result_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the task's name and status here, as JSON (the task's XCom).")  # fmt: skip
@config_file_option
@global_options
def command(spec: str, result_file: Path | None, config_file: str | None) -> None:
    """Run exactly the plan task SPEC (a JSON task spec) names."""
    from pybruin.airflow.spec import TaskSpec
    from pybruin.airflow.task import TaskOutcome, run_settings, run_task

    app = state()
    task = TaskSpec.from_json(spec)
    outcome = TaskOutcome(task.task, "failed")
    try:
        settings = run_settings(task, os.environ, config_file=config_file, secrets_backend=app.secrets_backend,
                                fallback_on_error=app.secrets_fallback_on_error)  # fmt: skip
        outcome = run_task(settings, task, app.masker, sys.stdout.buffer)
    finally:
        if result_file is not None:
            result_file.write_text(outcome.to_json() + "\n", encoding="utf-8")
    if not outcome.succeeded:
        raise click.exceptions.Exit(1)
