"""What the Airflow DAG of a pipeline holds, decided without Airflow: the DAG's settings and one entry per
plan task, with its dependencies, its worker spec and (in Kubernetes) its pod's image and resources.

Building it reads `pipeline.yml` and the asset files only. It never opens `.bruin.yml` nor a secret store:
Airflow parses DAG files in its scheduler, which must hold no credential, and a parse must not depend on a
store being reachable. It imports nothing heavy either (no SDK, driver, pydantic or Jinja), so large
pipelines parse well within Airflow's DAG-file processing budget.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pybruin.airflow.spec import TaskSpec, spec_template
from pybruin.config.bruin_yml import CONTENT_VARIABLE
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError
from pybruin.pipeline.loader import load_pipeline
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.validate import require_valid
from pybruin.plan import Plan, Task, build_plan
from pybruin.platforms import SQL_ASSET_TYPES
from pybruin.records import Record, field
from pybruin.secrets.registry import SECRET_VALUED_VARIABLES, STORES

log = logging.getLogger(__name__)

Mode = Literal["local", "kubernetes"]

#: Bruin Cloud's instance types (upstream docs, cloud/instance-types): CPU and memory requested per asset.
INSTANCE_TYPES: Mapping[str, Mapping[str, str]] = {
    "b1.nano": {"cpu": "250m", "memory": "256Mi"},
    "b1.small": {"cpu": "500m", "memory": "1Gi"},
    "b1.medium": {"cpu": "750m", "memory": "2Gi"},
    "b1.large": {"cpu": "1", "memory": "4Gi"},
    "b1.xlarge": {"cpu": "2", "memory": "6Gi"},
    "b1.2xlarge": {"cpu": "2", "memory": "8Gi"},
    "b1.3xlarge": {"cpu": "3", "memory": "12Gi"},
    "b1.4xlarge": {"cpu": "4", "memory": "16Gi"},
}
#: The instance of an asset that names none, as in Bruin Cloud.
DEFAULT_INSTANCE = "b1.nano"

#: The DAG param of `--full-refresh`; every other param is a pipeline variable of the same name.
FULL_REFRESH_PARAM = "full_refresh"

#: Bruin's schedule words (upstream's lint accepts them without the `@`) and the cron presets Airflow lacks.
_SCHEDULE_ALIASES = {
    "daily": "@daily",
    "hourly": "@hourly",
    "weekly": "@weekly",
    "monthly": "@monthly",
    "continuous": "@continuous",
    "@midnight": "@daily",
    "@annually": "@yearly",
}
_AIRFLOW_ID = re.compile(r"[^\w.-]", re.ASCII)
_MAX_TASK_ID = 250


class DagOptions(Record):
    """How a pipeline becomes a DAG: the execution mode, the worker's view of the project, the selection."""

    mode: Mode = "local"
    dag_id: str | None = None
    environment: str | None = None
    config_file: str | None = None
    #: The store the workers read secrets from; None leaves it to their `BRUIN_SECRETS_BACKEND`.
    secrets_backend: str | None = None
    #: Only assets with this tag (upstream's `--tag`).
    tag: str | None = None
    #: Leave out assets with any of these tags (upstream's `--exclude-tag`).
    exclude_tags: tuple[str, ...] = ()
    #: The project root in the workers (default: where the DAG file found it).
    project_dir: str | None = None
    #: Settings (not secrets) for the workers' environment, e.g. `BRUIN_VAULT_ROLE`.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Kubernetes: the pod image of assets without their own `image`.
    image: str | None = None
    #: Kubernetes: instance types besides (or replacing) Bruin Cloud's, name -> resource requests.
    instances: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class TaskLayout(Record):
    """One Airflow task: one plan task of the pipeline."""

    task_id: str
    #: The plan task's id, as upstream names it (`raw.users`, `raw.users:id:not_null`).
    plan_task: str
    asset: str
    upstream: tuple[str, ...]
    #: The Jinja template of the worker's task spec (see `pybruin.airflow.spec`).
    spec: str
    owner: str | None = None
    doc: str | None = None
    retries: int | None = None
    retry_delay_seconds: int | None = None
    #: Kubernetes only: the pod's image and resource requests.
    image: str | None = None
    resources: Mapping[str, str] | None = None


class DagLayout(Record):
    dag_id: str
    #: None (manual runs only), `@continuous`, or a cron expression or preset: the data intervals' schedule.
    schedule: str | None
    start_date: datetime | None
    catchup: bool | None
    max_active_runs: int
    tags: tuple[str, ...]
    #: Param name -> (default, JSON schema): `full_refresh` and the pipeline's variables.
    params: Mapping[str, tuple[Any, Mapping[str, Any]]]
    tasks: tuple[TaskLayout, ...]
    mode: Mode = "local"
    env: Mapping[str, str] = field(default_factory=dict)


def build_layout(path: Path, options: DagOptions) -> DagLayout:
    """The DAG of the pipeline at `path` (its folder or `pipeline.yml`), as `options` shape it."""
    _check_env(options.env)
    pipeline = load_pipeline(path)
    require_valid(pipeline)
    selected = select_assets(pipeline, options.tag, options.exclude_tags)
    plan = build_plan(pipeline, sql_types=frozenset(SQL_ASSET_TYPES), targets=selected) if selected else None
    tasks = _task_layouts(plan, options) if plan is not None else ()
    return DagLayout(
        dag_id=options.dag_id or pipeline.name,
        schedule=airflow_schedule(_text(pipeline.definition.get("schedule")), pipeline.definition_file),
        start_date=_start_date(pipeline.definition.get("start_date"), pipeline.definition_file),
        catchup=_catchup(pipeline.definition.get("catchup")),
        max_active_runs=_concurrency(pipeline),
        tags=_tags(pipeline, [plan.asset(task) for task in plan.tasks] if plan is not None else []),
        params=_params(pipeline),
        tasks=tasks,
        mode=options.mode,
        env=dict(options.env),
    )


def _task_layouts(plan: Plan, options: DagOptions) -> tuple[TaskLayout, ...]:
    pipeline = plan.pipeline
    if plan.refused:
        log.warning("%d task(s) of pipeline '%s' use features pybruin does not support yet and will fail: %s",
                    len(plan.refused), pipeline.name, ", ".join(plan.refused))  # fmt: skip
    root = find_project_root(pipeline.directory)
    variables = tuple(pipeline.variables)
    ids = _task_ids(plan.tasks)
    layouts = []
    for task in plan.tasks:
        asset = plan.asset(task)
        fixed = TaskSpec(
            project=options.project_dir or str(root),
            asset=asset.definition_file.relative_to(root).as_posix(),
            task=task.id,
            check=task.check_id,
            environment=options.environment,
            config_file=options.config_file,
            secrets_backend=options.secrets_backend,
        )
        layouts.append(
            TaskLayout(
                task_id=ids[task.id],
                plan_task=task.id,
                asset=asset.name,
                upstream=tuple(ids[up] for up in plan.upstreams[task.id]),
                spec=spec_template(fixed, variables),
                owner=asset.owner or _text(pipeline.definition.get("owner")),
                doc=asset.description,
                retries=_retries(asset, pipeline),
                retry_delay_seconds=_retry_delay(asset, pipeline),
                **(_pod(asset, options) if options.mode == "kubernetes" else {}),
            )
        )
    return tuple(layouts)


def select_assets(pipeline: Pipeline, tag: str | None, exclude_tags: tuple[str, ...]) -> list[Asset]:
    """The assets `--tag` and `--exclude-tag` leave, in file order (upstream's rules and messages)."""
    assets = list(pipeline.assets)
    if tag is not None:
        assets = [asset for asset in assets if tag in asset.tags]
        if not assets:
            raise BruinError(f"no assets found with include tag '{tag}'")
    for excluded in dict.fromkeys(exclude_tags):
        if not any(excluded in asset.tags for asset in pipeline.assets):
            log.warning("no assets found with exclude tag '%s'; continuing without excluding any assets.", excluded)
        assets = [asset for asset in assets if excluded not in asset.tags]
    return assets


def airflow_schedule(value: str | None, where: Path) -> str | None:
    """The pipeline's `schedule` as Airflow takes it: None, `@continuous`, or a cron expression or preset."""
    if not value:
        return None
    schedule = _SCHEDULE_ALIASES.get(value, value)
    if schedule.startswith("@every"):
        raise BruinError(f"{where}: schedule '{value}' has no Airflow equivalent; use a cron expression")
    return schedule


def airflow_task_id(task_id: str) -> str:
    """An Airflow task id for a plan task id: `:` (checks' separator) becomes `__`, any other character
    Airflow refuses becomes `_`."""
    return _AIRFLOW_ID.sub("_", task_id.replace(":", "__"))


def resource_requests(asset: Asset, instances: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The pod resource requests of the asset's `instance` (Bruin Cloud's default when it names none)."""
    name = asset.instance or DEFAULT_INSTANCE
    known = {**INSTANCE_TYPES, **instances}
    if name not in known:
        raise BruinError(
            f"{asset.definition_file}: unknown instance '{name}'; known instances: {', '.join(known)} "
            "(add yours with instances=...)"
        )
    return dict(known[name])


def _task_ids(tasks: tuple[Task, ...]) -> dict[str, str]:
    ids: dict[str, str] = {}
    owners: dict[str, str] = {}
    for task in tasks:
        task_id = airflow_task_id(task.id)
        if len(task_id) > _MAX_TASK_ID:
            raise BruinError(f"task '{task.id}' is too long for an Airflow task id ({_MAX_TASK_ID} characters)")
        first = owners.setdefault(task_id, task.id)
        if first != task.id:
            raise BruinError(f"tasks '{first}' and '{task.id}' would both be the Airflow task '{task_id}'")
        ids[task.id] = task_id
    return ids


def _pod(asset: Asset, options: DagOptions) -> dict[str, Any]:
    image = asset.image or options.image
    if not image:
        raise BruinError(f"{asset.definition_file}: no image for asset '{asset.name}': set image= or the asset's image")
    return {"image": image, "resources": resource_requests(asset, options.instances)}


def _check_env(env: Mapping[str, str]) -> None:
    """Refuse credentials in the DAG: what a DAG file holds ends up in Airflow's database and its UI."""
    credentials = SECRET_VALUED_VARIABLES.union({CONTENT_VARIABLE}, *(s.sdk_credentials for s in STORES.values()))
    refused = sorted(name for name in env if name in credentials)
    if refused:
        raise BruinError(
            f"env must not hold credentials ({', '.join(refused)}): give them to the workers themselves "
            "(their environment, a Kubernetes secret, a service account)"
        )


def _setting(asset: Asset, pipeline: Pipeline, key: str) -> object:
    """An integer setting: the asset's own, else the pipeline's `default:` block's."""
    defaults = pipeline.definition.get("default")
    value = asset.header.get(key)
    if value is None and isinstance(defaults, dict):
        value = defaults.get(key)
    return value


def _retries(asset: Asset, pipeline: Pipeline) -> int | None:
    """`retries` of the asset, its pipeline's `default:`, or the pipeline; None leaves Airflow's default."""
    value = _setting(asset, pipeline, "retries")
    if value is None:
        value = pipeline.definition.get("retries")
    return None if value is None else _integer(value, "retries", asset)


def _retry_delay(asset: Asset, pipeline: Pipeline) -> int | None:
    """`rerun_cooldown` as upstream translates it for Airflow: seconds > 0 is the delay, -1 means none."""
    value = _setting(asset, pipeline, "rerun_cooldown")
    if value is None:
        return None
    seconds = _integer(value, "rerun_cooldown", asset)
    return seconds if seconds > 0 else 0 if seconds == -1 else None


def _integer(value: object, key: str, asset: Asset) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BruinError(f"{asset.definition_file}: '{key}' must be an integer")
    return value


def _start_date(value: object, where: Path) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise BruinError(f"{where}: start_date must be in the format of YYYY-MM-DD, '{value}' given") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _catchup(value: object) -> bool | None:
    """Upstream's `catchup`: true or `active`/`all` catch up; false or unset leave Airflow's default."""
    if value is None:
        return None
    return value is True or value in ("active", "all")


def _concurrency(pipeline: Pipeline) -> int:
    """Overlapping runs of the pipeline: its `concurrency`, 1 when unset or 0 (as upstream)."""
    value = pipeline.definition.get("concurrency") or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BruinError(f"{pipeline.definition_file}: 'concurrency' must be a positive integer")
    return value


def _tags(pipeline: Pipeline, assets: list[Asset]) -> tuple[str, ...]:
    own = pipeline.definition.get("tags")
    tags = [str(tag) for tag in own] if isinstance(own, list) else []
    tags.extend(tag for asset in assets for tag in asset.tags)
    return tuple(dict.fromkeys(tag for tag in tags if tag))


def _params(pipeline: Pipeline) -> dict[str, tuple[Any, Mapping[str, Any]]]:
    if FULL_REFRESH_PARAM in pipeline.variables:
        raise BruinError(f"{pipeline.definition_file}: variable '{FULL_REFRESH_PARAM}' clashes with the DAG param "
                         "of --full-refresh; rename it")  # fmt: skip
    params: dict[str, tuple[Any, Mapping[str, Any]]] = {
        FULL_REFRESH_PARAM: (False, {"type": "boolean", "description": "Rebuild from scratch (--full-refresh)."})
    }
    for name, schema in pipeline.variables.items():
        params[name] = (schema.get("default"), {key: value for key, value in schema.items() if key != "default"})
    return params


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
