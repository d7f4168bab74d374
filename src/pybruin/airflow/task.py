"""The worker's side of one Airflow task: run exactly its plan task through the composition root.

`bruin airflow-task` (a subprocess of the local operator, or a pod's command) calls `run_task`. The
asset's secrets are resolved here, in the worker, from `.bruin.yml` or the store the worker's environment
configures (Vault Kubernetes auth, an AWS role, ...); Airflow's own processes never hold one. Everything
printed goes through pybruin's masker, so the task log is pybruin's masked output, closed by the run's
manifest; the result Airflow keeps (XCom) is the task's name and status only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from pybruin.airflow.spec import TaskSpec
from pybruin.masking import Masker
from pybruin.records import Record
from pybruin.run.scheduler import Status
from pybruin.run.session import RunSettings, run_pipeline
from pybruin.workspace import ProjectSettings

MANIFEST_BEGIN = "--- bruin run manifest ---"
MANIFEST_END = "--- end of manifest ---"


class TaskOutcome(Record):
    """What Airflow may keep of a task: names and a status, never an error text or a value."""

    task: str
    status: str

    @property
    def succeeded(self) -> bool:
        return self.status in (Status.SUCCEEDED, Status.SKIPPED)

    def to_json(self) -> str:
        return json.dumps({"task": self.task, "status": self.status})


def run_settings(
    spec: TaskSpec,
    environ: Mapping[str, str],
    *,
    config_file: str | None,
    secrets_backend: str | None,
    fallback_on_error: bool,
) -> RunSettings:
    """The run of exactly `spec`'s task: its asset's main task alone (`--only main`: its checks are tasks of
    their own), or its one check (`--single-check`); the run's interval, params and id; no files written into
    the project (the task log and the result are the run's record).

    The spec's config file and store win over the worker's (`config_file`, `secrets_backend`: its
    `BRUIN_CONFIG_FILE` and `BRUIN_SECRETS_BACKEND`).
    """
    root = Path(spec.project)
    if spec.config_file:
        config_file = str(root / spec.config_file)
    return RunSettings(
        project=ProjectSettings(
            path=root / spec.asset,
            environment=spec.environment,
            config_file=config_file,
            secrets_backend=spec.secrets_backend or secrets_backend,
            secrets_fallback_on_error=fallback_on_error,
            environ={**environ, "BRUIN_RUN_ID": spec.run_id} if spec.run_id else dict(environ),
        ),
        start_date=spec.start,
        end_date=spec.end,
        full_refresh=spec.full_refresh,
        variables=(json.dumps(dict(spec.variables)),) if spec.variables else (),
        only=("main",) if spec.check is None else (),
        single_check=spec.check,
        log_file=False,
        write_manifest=False,
        timestamps=False,
        color=False,
    )


def run_task(settings: RunSettings, spec: TaskSpec, masker: Masker, terminal: BinaryIO) -> TaskOutcome:
    """Run the task, write its output and then its manifest to `terminal`, and say how it ended."""
    outcome = run_pipeline(settings, masker, terminal)
    if outcome.manifest is not None:
        terminal.write(f"{MANIFEST_BEGIN}\n{outcome.manifest}{MANIFEST_END}\n".encode())
        terminal.flush()
    if outcome.report is None:  # nothing to run: the asset is disabled
        return TaskOutcome(spec.task, str(Status.SKIPPED))
    statuses = {result.name: result.status for result in outcome.report.results}
    statuses.update({check.task.id: check.result.status for check in outcome.report.checks})
    return TaskOutcome(spec.task, str(statuses.get(spec.task, Status.FAILED)))
