"""`bruin_dag`: a pipeline as an Airflow DAG, one task per plan task (the Cosmos shape for Bruin)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pybruin.airflow.layout import DagLayout, DagOptions, Mode, TaskLayout, build_layout
from pybruin.errors import BruinError

if TYPE_CHECKING:
    from airflow.sdk import DAG


def bruin_dag(
    pipeline: str | Path,
    *,
    mode: Mode = "local",
    dag_id: str | None = None,
    environment: str | None = None,
    config_file: str | None = None,
    secrets_backend: str | None = None,
    tag: str | None = None,
    exclude_tags: Sequence[str] = (),
    project_dir: str | None = None,
    env: Mapping[str, str] | None = None,
    image: str | None = None,
    instances: Mapping[str, Mapping[str, str]] | None = None,
    pod_options: Mapping[str, Any] | None = None,
    **dag_kwargs: Any,
) -> DAG:
    """The DAG of the pipeline at `pipeline` (its folder or `pipeline.yml`).

    Each task runs its plan task in the worker (`mode="local"`: a subprocess of the Airflow worker;
    `mode="kubernetes"`: a pod in the asset's `image`, else `image`, with its `instance`'s resources), with
    the run's data interval, `run_id` and the DAG params (`full_refresh` and the pipeline's variables).
    Secrets are resolved there, from `.bruin.yml` or the store the worker's environment configures
    (`secrets_backend` names it for every worker instead). `env` adds settings, never credentials, to the
    workers' environment; `pod_options` go to every KubernetesPodOperator. The pipeline's `schedule`,
    `start_date`, `catchup`, `concurrency` and tags become the DAG's; `dag_kwargs` (e.g. `default_args`,
    `schedule`) go to `DAG` and win.
    """
    options = DagOptions(
        mode=mode,
        dag_id=dag_id,
        environment=environment,
        config_file=config_file,
        secrets_backend=secrets_backend,
        tag=tag,
        exclude_tags=tuple(exclude_tags),
        project_dir=project_dir,
        env=dict(env or {}),
        image=image,
        instances=dict(instances or {}),
    )
    if mode not in ("local", "kubernetes"):
        raise BruinError(f"unknown mode '{mode}': use 'local' or 'kubernetes'")
    layout = build_layout(Path(pipeline), options)
    return _dag(layout, dict(pod_options or {}), dag_kwargs)


def _dag(layout: DagLayout, pod_options: dict[str, Any], dag_kwargs: dict[str, Any]) -> DAG:
    from airflow.sdk import DAG, Param

    settings: dict[str, Any] = {
        "dag_id": layout.dag_id,
        "schedule": _schedule(layout),
        "max_active_runs": layout.max_active_runs,
        "tags": list(layout.tags),
        "params": {name: Param(default, **schema) for name, (default, schema) in layout.params.items()},
    }
    if layout.start_date is not None:
        settings["start_date"] = layout.start_date
    if layout.catchup is not None:
        settings["catchup"] = layout.catchup
    settings.update(dag_kwargs)
    with DAG(**settings) as dag:
        operators = {task.task_id: _operator(task, layout, pod_options) for task in layout.tasks}
        for task in layout.tasks:
            for upstream in task.upstream:
                operators[upstream] >> operators[task.task_id]
    return dag


def _schedule(layout: DagLayout) -> object:
    """A cron schedule runs over data intervals (Bruin's start and end dates), as in Bruin Cloud."""
    if layout.schedule in (None, "@continuous"):
        return layout.schedule
    from airflow.sdk import CronDataIntervalTimetable

    try:
        return CronDataIntervalTimetable(layout.schedule, timezone="UTC")
    except Exception:
        raise BruinError(f"pipeline '{layout.dag_id}': invalid cron schedule '{layout.schedule}'") from None


def _operator(task: TaskLayout, layout: DagLayout, pod_options: dict[str, Any]) -> Any:
    common: dict[str, Any] = {"task_id": task.task_id}
    if task.owner:
        common["owner"] = task.owner
    if task.doc:
        common["doc_md"] = task.doc
    if task.retries is not None:
        common["retries"] = task.retries
    if task.retry_delay_seconds is not None:
        common["retry_delay"] = timedelta(seconds=task.retry_delay_seconds)
    if layout.mode == "kubernetes":
        from pybruin.airflow.kubernetes import pod_operator

        return pod_operator(task, layout.env, common, pod_options)
    from pybruin.airflow.operators import BruinTaskOperator

    return BruinTaskOperator(spec=task.spec, env=layout.env, **common)
