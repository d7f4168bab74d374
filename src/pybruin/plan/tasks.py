"""The frozen plan of one run: which tasks run, in which order they are preferred, what each needs.

It is built once, before anything runs, from a loaded pipeline and the user's selection, and then only
read: by `bruin run` (the scheduler and the runner), `bruin validate` (its refusals are validation errors),
`bruin secrets check/list` (every name it needs) and, later, the tooling commands and the Airflow DAG
builder. A task is one unit the scheduler runs: per asset, upstream's "main" task, then one task per column
check and one per custom check. Every check waits for its asset's main task; an asset's main task waits for
the main tasks of its upstreams and for their blocking checks, so a non-blocking check never holds anything up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType

from pybruin.errors import BruinError
from pybruin.pipeline.checks import column_check_task, custom_check_task
from pybruin.pipeline.dag import downstream_of, upstreams
from pybruin.pipeline.model import Asset, Column, ColumnCheck, CustomCheck, Pipeline
from pybruin.pipeline.needs import Needs, asset_needs
from pybruin.plan.unsupported import NearbyFiles, unsupported_reasons
from pybruin.records import Record


class TaskKind(StrEnum):
    MAIN = "main"
    COLUMN_CHECK = "column_check"
    CUSTOM_CHECK = "custom_check"


#: `--only` values (upstream's) → the task kinds they select. Upstream's `push-metadata` selects metadata
#: pushes, which pybruin refuses anyway (see `unsupported.py`), so here it selects nothing.
ONLY_VALUES: Mapping[str, frozenset[TaskKind]] = MappingProxyType(
    {
        "main": frozenset({TaskKind.MAIN}),
        "checks": frozenset({TaskKind.COLUMN_CHECK, TaskKind.CUSTOM_CHECK}),
        "push-metadata": frozenset(),
    }
)


#: Saved statuses `--continue` runs again (upstream's; `pending` too: it never ran).
RERUN_STATUSES = frozenset({"failed", "upstream_failed", "running", "queued", "pending"})


class Task(Record):
    """One schedulable unit; `id` is upstream's human id (the asset name for a main task,
    `<asset>:<column>:<check>` or `<asset>:custom-check:<name>` for a check)."""

    id: str
    asset: str
    kind: TaskKind = TaskKind.MAIN
    #: Whether downstream assets wait for this task (a main task always blocks).
    blocking: bool = True
    #: A column check's column.
    column: Column | None = None
    #: A check task's check, as declared.
    check: ColumnCheck | CustomCheck | None = None

    @property
    def check_id(self) -> str | None:
        """Upstream's id of the check (what `--single-check` takes); None for a main task."""
        return self.check.id if self.check is not None else None


def asset_tasks(asset: Asset) -> Iterator[Task]:
    """The asset's tasks in upstream's order: main, column checks by column, custom checks.

    A check name repeated on one column runs once, as upstream runs it (validation reports the repeat).
    """
    yield Task(asset.name, asset.name)
    for column in asset.columns:
        seen: set[str] = set()
        for check in column.checks:
            if check.name not in seen:
                seen.add(check.name)
                task = column_check_task(asset.name, column.name, check.name)
                yield Task(task, asset.name, TaskKind.COLUMN_CHECK, check.blocks, column, check)
    for custom in asset.custom_checks:
        yield Task(custom_check_task(asset.name, custom.name), asset.name, TaskKind.CUSTOM_CHECK, custom.blocks,
                   check=custom)  # fmt: skip


class SelectionError(BruinError):
    """A selection that cannot be made (upstream: `Failed to filter assets: <reason>`)."""


def only_kinds(values: Collection[str]) -> frozenset[TaskKind]:
    """The task kinds `--only` values select; every kind when none is given."""
    if not values:
        return frozenset(TaskKind)
    kinds: set[TaskKind] = set()
    for value in values:
        if value not in ONLY_VALUES:
            raise SelectionError(
                f"invalid value for '--only' flag: '{value}', available values are 'main', 'checks', and "
                "'push-metadata'"
            )
        kinds |= ONLY_VALUES[value]
    return frozenset(kinds)


class Plan(Record):
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
        """Every connection name the tasks (default: all that will run) need, each once, in plan order: a
        main task everything its asset needs, a check only the connection it queries."""
        chosen = self.runnable() if tasks is None else tasks
        return list(dict.fromkeys(name for task in chosen for name in self._names(task)))

    def _names(self, task: Task) -> tuple[str, ...]:
        needs = self.needs[task.asset]
        if task.kind is TaskKind.MAIN:
            return needs.names
        return (needs.connection,) if needs.connection else ()

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
    tag: str | None = None,
    exclude_tags: Sequence[str] = (),
    only: Collection[str] = (),
    single_check: str | None = None,
    restore: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for the whole pipeline, or for `targets` (asset files given on the command line) and, with
    `downstream`, everything downstream of them (checks included). Upstreams of a target are not run, as
    upstream Bruin does.

    `tag` keeps the assets carrying it, `exclude_tags` drops those carrying any (exclusion wins); `only`
    are `--only` values (`main`, `checks`, `push-metadata`); `single_check` is a check id: the plan then
    holds that one check of the selection. `restore` (`--continue`) is the last run's status by asset name:
    what failed or did not run is selected again, nothing else, and no other filter applies. `sql_types` are
    the SQL asset types pybruin's platforms can run; other types are refused. A selection that cannot be
    made raises `SelectionError`.
    """
    if single_check is not None and len(targets) > 1:
        raise SelectionError(
            "Cannot use --single-check flag when running multiple assets. --single-check can only be used with a "
            "single asset."
        )
    wanted, warnings = _selection(pipeline, targets, downstream, tag, exclude_tags, restore)
    selected = [asset for asset in pipeline.assets if asset.name in wanted]
    running = [asset for asset in selected if asset.enabled]
    kinds = only_kinds(only)
    tasks = tuple(task for asset in running for task in asset_tasks(asset) if task.kind in kinds)
    if single_check is not None:
        tasks = _single_check(tasks, single_check)
    refused = _refusals(tasks, pipeline, sql_types)
    return Plan(
        pipeline=pipeline,
        tasks=tasks,
        upstreams=MappingProxyType(_edges(tasks, pipeline)),
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


def _single_check(tasks: Sequence[Task], check_id: str) -> tuple[Task, ...]:
    found = next((task for task in tasks if task.check_id == check_id), None)
    if found is None:
        raise SelectionError("cannot find check with the given ID")
    return (found,)


def _edges(tasks: Sequence[Task], pipeline: Pipeline) -> dict[str, tuple[str, ...]]:
    """Task id → what it waits for: a check its asset's main task; a main task the blocking tasks of the
    assets it depends on. Tasks outside the plan are not waited for."""
    blocking: dict[str, list[str]] = {}
    for task in tasks:
        if task.blocking:
            blocking.setdefault(task.asset, []).append(task.id)
    mains = {task.asset for task in tasks if task.kind is TaskKind.MAIN}
    graph = upstreams(pipeline)
    edges = {}
    for task in tasks:
        if task.kind is TaskKind.MAIN:
            edges[task.id] = tuple(up_task for up in graph[task.asset] for up_task in blocking.get(up, ()))
        else:
            edges[task.id] = (task.asset,) if task.asset in mains else ()
    return edges


def _refusals(tasks: Sequence[Task], pipeline: Pipeline, sql_types: frozenset[str]) -> dict[str, str]:
    """Why an asset cannot run, on its main task (its checks then wait in vain: upstream_failed), or on its
    checks when the main task is not selected."""
    reasons_by_asset: dict[str, str] = {}
    files = NearbyFiles()
    for name in dict.fromkeys(task.asset for task in tasks):
        asset = pipeline.asset(name)
        assert asset is not None, name
        reasons = unsupported_reasons(asset, pipeline, sql_types, files)
        if reasons:
            reasons_by_asset[name] = "; ".join(reasons)
    mains = {task.asset for task in tasks if task.kind is TaskKind.MAIN}
    return {
        task.id: reasons_by_asset[task.asset]
        for task in tasks
        if task.asset in reasons_by_asset and (task.kind is TaskKind.MAIN or task.asset not in mains)
    }
