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

from pybruin.pipeline.dag import downstream_of, upstreams
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.needs import Needs, asset_needs
from pybruin.plan.unsupported import unsupported_reasons


class TaskKind(StrEnum):
    MAIN = "main"


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


def build_plan(
    pipeline: Pipeline,
    *,
    sql_types: frozenset[str],
    targets: Sequence[Asset] = (),
    downstream: bool = False,
) -> Plan:
    """The plan for the whole pipeline, or for `targets` (asset files given on the command line) and, with
    `downstream`, everything downstream of them. Upstreams of a target are not run, as upstream Bruin does.

    `sql_types` are the SQL asset types pybruin's platforms can run; other types are refused.
    """
    wanted: set[str] | None = None
    if targets:
        wanted = {asset.name for asset in targets}
        if downstream:
            for asset in targets:
                wanted |= downstream_of(pipeline, asset.name)
    selected = [asset for asset in pipeline.assets if wanted is None or asset.name in wanted]
    running = [asset for asset in selected if asset.enabled]
    names = {asset.name for asset in running}
    graph = upstreams(pipeline)
    tasks = tuple(Task(asset.name, asset.name) for asset in running)
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
    )
