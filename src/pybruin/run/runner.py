"""Executes a frozen plan: each task by the kind of its asset, in dependency order, reported at the end."""

from __future__ import annotations

import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pybruin.errors import BruinError
from pybruin.plan import Plan, Task
from pybruin.plan.tasks import is_check
from pybruin.plan.unsupported import NO_OP_TYPES
from pybruin.platforms import SQL_ASSET_TYPES
from pybruin.run.child_env import ChildEnvironments, ConnectionSource, ReceivedSecret, missing_secret_message
from pybruin.run.context import RunContext
from pybruin.run.output import RunOutput
from pybruin.run.processes import ChildProcesses, PythonEnvironments, rscript_path
from pybruin.run.progress import Progress
from pybruin.run.report import RunReport
from pybruin.run.scheduler import Limits, Status, TaskResult, run_tasks

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Asset
    from pybruin.pipeline.needs import Needs
    from pybruin.platforms.run import Databases

PROCESS_KINDS = {"python": "Python", "r": "R"}


class RunConnections(ConnectionSource, Protocol):
    """The run's view of the connection store (see `pybruin.secrets.view`)."""

    def prefetch(self, names: Iterable[str]) -> None:
        """Read every name up front, concurrently; errors are kept for the assets that need them."""

    def missing_message(self, name: str) -> str:
        """The one-line error for a connection that no store has."""


class Runner:
    """Runs the tasks of one plan and reports on them."""

    def __init__(
        self,
        plan: Plan,
        context: RunContext,
        connections: RunConnections,
        output: RunOutput,
        environments: ChildEnvironments,
        *,
        project_root: Path,
        environment_name: str,
        workers: int,
        debug: bool,
        python_cache: Path,
        announce: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self.plan = plan
        self.context = context
        self.connections = connections
        self.output = output
        self.environments = environments
        self.project_root = project_root
        self.environment_name = environment_name
        self.workers = workers
        self.debug = debug
        self.announce = announce
        self.progress = progress
        self._received: dict[str, list[ReceivedSecret]] = {}
        self._children = ChildProcesses()
        self._pythons = PythonEnvironments(python_cache, environments.tool(), self._children)
        self._databases: Databases | None = None
        self._databases_lock = threading.Lock()
        self._tasks = {task.id: task for task in plan.tasks}
        self._began: set[str] = set()  # tasks a worker started (a refused task fails without starting)

    def run(self) -> RunReport:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        started = time.monotonic()
        needed = self.plan.names_needed()
        self.connections.prefetch(needed)
        caps = {}
        for name in needed:
            connection = self._lookup_quietly(name)
            if connection is not None:
                self.output.masker.protect_connection(connection)
                if connection.max_concurrent_assets:
                    caps[name] = connection.max_concurrent_assets
        limits = Limits(caps, {task.id: self.plan.connections_used(task) for task in self.plan.tasks})

        if self.progress is not None:
            self.progress.attach(self.output.status)
        try:
            results = run_tasks(
                [task.id for task in self.plan.tasks],
                self.plan.upstreams,
                self._run_one,
                workers=self.workers,
                limits=limits,
                describe_error=self._describe_error,
                on_done=self._announce,
                stop=self._children.stop,
                refused=self.plan.refused,
            )
        finally:
            if self.progress is not None:
                self.progress.close()
            self._close_databases()
        skipped = set(self.plan.skipped)
        pipeline = self.plan.pipeline
        by_asset: dict[str, list[TaskResult]] = {}
        for task in self.plan.tasks:
            if task.id in results:
                by_asset.setdefault(task.asset, []).append(results[task.id])
        ordered = [
            result
            for asset in pipeline.assets
            for result in by_asset.get(asset.name)
            or ([TaskResult(asset.name, Status.SKIPPED)] if asset.name in skipped else [])
        ]
        return RunReport(
            run_id=self.context.run_id,
            pipeline=pipeline.name,
            environment=self.environment_name,
            started_at=started_at,
            duration=time.monotonic() - started,
            results=ordered,
            received=self._received,
            types={asset.name: asset.type for asset in pipeline.assets},
            task_assets={task.id: task.asset for task in self.plan.tasks},
            task_checks={task.id: is_check(task.kind) for task in self.plan.tasks},
        )

    def _run_one(self, task_id: str) -> None:
        task = self._tasks[task_id]
        self._began.add(task_id)
        if self.progress is not None:
            self.progress.started()
        if self.announce:
            self.output.line(f"Running:  {task.id}")
        self._execute(task)

    def _lookup_quietly(self, name: str) -> Connection | None:
        try:
            resolved = self.connections.get(name)
        except BruinError:
            return None
        return resolved.connection if resolved else None

    def _announce(self, result: TaskResult) -> None:
        if self.progress is not None:
            self.progress.settled(result.name in self._began, result.status is Status.FAILED)
        if not self.announce:
            return
        if result.status is Status.SUCCEEDED:
            self.output.line(f"Finished: {result.name} ({result.duration:.2f}s)")
        elif result.status is Status.FAILED:
            self.output.line(f"Failed: {result.name} ({result.duration:.2f}s): {result.error}")
        else:
            self.output.line(f"Skipped: {result.name} (an upstream asset failed)")

    def _describe_error(self, error: BaseException) -> str:
        if self.debug:
            self.output.block("".join(traceback.format_exception(error)))
        if isinstance(error, BruinError):
            return str(error)
        return f"unexpected error: {type(error).__name__}: {error}"

    def _execute(self, task: Task) -> None:
        asset = self.plan.asset(task)
        needs = self.plan.needs[asset.name]
        if asset.type in PROCESS_KINDS:
            self._execute_process(asset, needs)
        elif asset.type in SQL_ASSET_TYPES:
            self._execute_sql(asset, needs)
        elif asset.type in NO_OP_TYPES:
            self._check_resolvable(needs)
        else:  # the plan refuses every other type; reaching here is a bug, not a silent success
            raise BruinError(f"asset type '{asset.type}' is not supported by pybruin yet")

    def _check_resolvable(self, needs: Needs) -> list[Connection]:
        """Every name the asset needs, resolved; the first missing one fails the asset as a run would."""
        found = []
        for name in needs.names:
            resolved = self.connections.get(name)
            if resolved is None:
                raise BruinError(
                    self.connections.missing_message(name) if name == needs.connection else missing_secret_message(name)
                )
            found.append(resolved.connection)
        return found

    def _execute_process(self, asset: Asset, needs: Needs) -> None:
        python = asset.type == "python"
        env, received = self.environments.asset(asset.name, needs, self.connections, python=python)
        self._received[asset.name] = received
        if self._databases is not None:
            self._databases.release_idle()
        stream = self.output.asset_stream(asset.name)
        try:
            if python:
                interpreter = self._pythons.interpreter(asset, self.project_root, stream)
                argv = [interpreter, str(asset.executable_file.resolve())]
            else:
                argv = [rscript_path(), str(asset.executable_file.resolve())]
            code = self._children.run(argv, env=env, cwd=self.project_root, stream=stream)
        finally:
            stream.close()
        if code != 0:
            raise BruinError(f"failed to execute {PROCESS_KINDS[asset.type]} script: exit status {code}")

    def _execute_sql(self, asset: Asset, needs: Needs) -> None:
        from pybruin.platforms.run import run_sql_asset
        from pybruin.run.templating import render_sql

        assert needs.connection is not None  # every SQL platform asset has an effective connection
        name = needs.connection
        resolved = self.connections.get(name)
        if resolved is None:
            raise BruinError(self.connections.missing_message(name))
        self._check_resolvable(needs)
        self._received[asset.name] = [ReceivedSecret(name, "", resolved.connection.type_key, resolved.source)]
        rendered = render_sql(
            asset.content,
            self.context.template_values(asset.name),
            asset_name=asset.name,
            secret_names={s.key for s in asset.secrets} | {s.inject_as for s in asset.secrets},
        )
        run_sql_asset(
            asset,
            resolved.connection,
            self._shared_databases(),
            rendered_sql=rendered,
            schema_prefix=self.context.schema_prefix,
        )

    def _shared_databases(self) -> Databases:
        with self._databases_lock:
            if self._databases is None:
                from pybruin.platforms.run import Databases

                self._databases = Databases()
            return self._databases

    def _close_databases(self) -> None:
        if self._databases is not None:
            self._databases.close()
