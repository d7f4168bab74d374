"""The frozen plan of one run: which tasks run, in which order they are preferred, what each needs.

It is built once, before anything runs, from a loaded pipeline and the user's selection, and then only
read: by `bruin run` (the scheduler and the runner), `bruin validate` (its refusals are validation errors),
`bruin secrets check/list` (every name it needs) and, later, the tooling commands and the Airflow DAG
builder. A task is one unit the scheduler runs: today one per asset (upstream's "main" task).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from pybruin.errors import BruinError
from pybruin.pipeline.dag import downstream_of, upstreams
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.needs import Needs, asset_needs
from pybruin.plan.unsupported import unsupported_reasons


class TaskKind(StrEnum):
    MAIN = "main"


#: `--only` values, as upstream spells them.
ONLY_VALUES = ("main", "checks", "push-metadata")
#: Saved statuses `--continue` runs again (upstream's; `pending` too: it never ran).
RERUN_STATUSES = frozenset({"failed", "upstream_failed", "running", "queued", "pending"})


def only_category(kind: TaskKind) -> str:
    """Which `--only` value selects tasks of `kind`: the main task, a check, or a metadata push."""
    if kind is TaskKind.MAIN:
        return "main"
    return "push-metadata" if kind.value == "metadata-push" else "checks"


def is_check(kind: TaskKind) -> bool:
    return only_category(kind) == "checks"


@dataclass(frozen=True)
class Task:
    """One schedulable unit; `id` is upstream's human id (the asset name for a main task)."""

    id: str
    asset: str
    kind: TaskKind = TaskKind.MAIN
    #: Whether downstream assets wait for this task (a main task always blocks).
    blocking: bool = True


@dataclass(frozen=True)
class Plan:
    """What one run will do. Mappings are read-only; nothing here changes once built."""

    pipeline: Pipeline
    #: The tasks to run, in pipeline (file) order: the scheduler's tie-break among ready tasks.
    tasks: tuple[Task, ...]
    #: Task id → the ids of the tasks (in this plan) it waits for.
    upstreams: Mapping[str, tuple[str, ...]]
    #: Asset name → what it needs, for the assets of `tasks`.
    needs: Mapping[str, Needs]
    #: Task id → why it fails before anything runs (a feature pybruin does not implement yet).
    refused: Mapping[str, str]
    #: Disabled assets of the selection: reported as skipped, never run.
    skipped: tuple[str, ...]
    #: What the selection wants the user told (an `--exclude-tag` no asset carries), one line each.
    warnings: tuple[str, ...] = ()

    def asset(self, task: Task) -> Asset:
        asset = self.pipeline.asset(task.asset)
        assert asset is not None, task
        return asset

    def names_needed(self, tasks: Iterable[Task] | None = None) -> list[str]:
        """Every connection name the tasks (default: all that will run) need, each once, in plan order."""
        chosen = self.runnable() if tasks is None else tasks
        return list(dict.fromkeys(name for task in chosen for name in self.needs[task.asset].names))

    def runnable(self) -> list[Task]:
        return [task for task in self.tasks if task.id not in self.refused]

    def connections_used(self, task: Task) -> tuple[str, ...]:
        """The connections whose `max_concurrent_assets` caps count this task."""
        connection = self.needs[task.asset].connection
        return (connection,) if connection else ()


class SelectionError(BruinError):
    """A selection that cannot be made (upstream: `Failed to filter assets: <reason>`)."""


def build_plan(
    pipeline: Pipeline,
    *,
    sql_types: frozenset[str],
    targets: Sequence[Asset] = (),
    downstream: bool = False,
    tag: str | None = None,
    exclude_tags: Sequence[str] = (),
    only: Sequence[str] = (),
    restore: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for the whole pipeline, or for `targets` (asset files given on the command line) and, with
    `downstream`, everything downstream of them. Upstreams of a target are not run, as upstream Bruin does.

    `tag` keeps the assets carrying it, `exclude_tags` drops those carrying any (exclusion wins), `only`
    keeps the tasks of those kinds (`ONLY_VALUES`). `restore` (`--continue`) is the last run's status by
    asset name: what failed or did not run is selected again, nothing else, and no other filter applies.
    `sql_types` are the SQL asset types pybruin's platforms can run; other types are refused.
    """
    wanted, warnings = _selection(pipeline, targets, downstream, tag, exclude_tags, restore)
    selected = [asset for asset in pipeline.assets if asset.name in wanted]
    running = [asset for asset in selected if asset.enabled]
    graph = upstreams(pipeline)
    for value in only:
        if value not in ONLY_VALUES:
            raise SelectionError(
                f"invalid value for '--only' flag: '{value}', "
                "available values are 'main', 'checks', and 'push-metadata'"
            )
    tasks = tuple(
        task for task in (Task(asset.name, asset.name) for asset in running)
        if not only or only_category(task.kind) in only
    )  # fmt: skip
    names = {task.asset for task in tasks}
    running = [asset for asset in running if asset.name in names]
    refused = {}
    for asset in running:
        reasons = unsupported_reasons(asset, pipeline, sql_types)
        if reasons:
            refused[asset.name] = "; ".join(reasons)
    return Plan(
        pipeline=pipeline,
        tasks=tasks,
        upstreams=MappingProxyType({task.id: tuple(up for up in graph[task.asset] if up in names) for task in tasks}),
        needs=MappingProxyType({asset.name: asset_needs(asset, pipeline) for asset in running}),
        refused=MappingProxyType(refused),
        skipped=tuple(asset.name for asset in selected if not asset.enabled),
        warnings=tuple(warnings),
    )


def _selection(
    pipeline: Pipeline,
    targets: Sequence[Asset],
    downstream: bool,
    tag: str | None,
    exclude_tags: Sequence[str],
    restore: Mapping[str, str] | None,
) -> tuple[set[str], list[str]]:
    """The names of the selected assets, and the warnings the selection gives."""
    everything = [asset.name for asset in pipeline.assets]
    if restore is not None:
        return {name for name in everything if name not in restore or restore[name] in RERUN_STATUSES}, []
    if targets and tag:
        raise SelectionError(
            "You cannot use the '--tag' flag when running a single asset."
            if len(targets) == 1
            else "cannot specify assets with --tag flag"
        )
    warnings = []
    carried = []
    for excluded in dict.fromkeys(exclude_tags):
        if any(excluded in asset.tags for asset in pipeline.assets):
            carried.append(excluded)
        else:
            warnings.append(
                f"Warning: no assets found with exclude tag '{excluded}'; continuing without excluding any assets."
            )
    if targets:
        if carried and not downstream:
            raise SelectionError(
                "when running a single asset with '--exclude-tag', you must also use the '--downstream' flag"
                if len(targets) == 1
                else "when specifying assets with --exclude-tag, you must also use --downstream flag"
            )
        wanted = {asset.name for asset in targets}
        if downstream:
            for asset in targets:
                wanted |= downstream_of(pipeline, asset.name)
    elif tag:
        wanted = {asset.name for asset in pipeline.assets if tag in asset.tags}
        if not wanted:
            raise SelectionError(f"no assets found with include tag '{tag}'")
    else:
        wanted = set(everything)
    excluded = {asset.name for asset in pipeline.assets if set(asset.tags) & set(carried)}
    return wanted - excluded, warnings
