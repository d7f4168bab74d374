"""Executes a frozen plan: each task by the kind of its asset, in dependency order, reported at the end."""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pybruin.errors import BruinError
from pybruin.pipeline.materialization import Materialization
from pybruin.plan import Plan, Task
from pybruin.plan.unsupported import NO_OP_TYPES
from pybruin.platforms import SEED_ASSET_TYPES, SQL_ASSET_TYPES
from pybruin.run.child_env import (
    ChildEnvironments,
    ConnectionSource,
    ReceivedSecret,
    missing_secret_message,
    run_variables,
)
from pybruin.run.context import RunContext
from pybruin.run.output import RunOutput
from pybruin.run.processes import ChildProcesses, PythonEnvironments, rscript_path
from pybruin.run.rendering import AssetRenderer
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
        renderer: AssetRenderer | None = None,
    ) -> None:
        self.plan = plan
        self.renderer = renderer or AssetRenderer(context, plan.pipeline)
        self.context = context
        self.connections = connections
        self.output = output
        self.environments = environments
        self.project_root = project_root
        self.environment_name = environment_name
        self.workers = workers
        self.debug = debug
        self._received: dict[str, list[ReceivedSecret]] = {}
        self._children = ChildProcesses()
        self._pythons = PythonEnvironments(python_cache, environments.tool(), self._children)
        self._databases: Databases | None = None
        self._databases_lock = threading.Lock()
        self._tasks = {task.id: task for task in plan.tasks}

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

        self.output.line(f"Interval: {self.context.start.isoformat()} - {self.context.end.isoformat()}")
        self.output.line("Starting the pipeline execution...")
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
            self._close_databases()
        skipped = set(self.plan.skipped)
        pipeline = self.plan.pipeline
        ordered = [
            results.get(asset.name) or TaskResult(asset.name, Status.SKIPPED)
            for asset in pipeline.assets
            if asset.name in results or asset.name in skipped
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
        )

    def _run_one(self, task_id: str) -> None:
        task = self._tasks[task_id]
        self.output.line(f"Running:  {task.id}")
        self._execute(task)

    def _lookup_quietly(self, name: str) -> Connection | None:
        try:
            resolved = self.connections.get(name)
        except BruinError:
            return None
        return resolved.connection if resolved else None

    def _announce(self, result: TaskResult) -> None:
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
        elif asset.type in SEED_ASSET_TYPES:
            self._execute_seed(asset, needs)
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
        env.update(self._asset_run_variables(asset))
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

    def _asset_run_variables(self, asset: Asset) -> dict[str, str]:
        """The run variables that differ for this asset: dates shifted by its interval modifiers, and
        `BRUIN_FULL_REFRESH` when its full refresh is restricted."""
        start, end = self.renderer.interval(asset)
        full_refresh = self.renderer.full_refresh(asset)
        context = self.context
        if (start, end, full_refresh) == (context.start, context.end, context.full_refresh):
            return {}
        return run_variables(replace(context, start=start, end=end, full_refresh=full_refresh))

    def _sql_connection(self, asset: Asset, needs: Needs) -> Connection:
        """The connection a SQL or seed asset runs on, and every other name it needs, resolved."""
        assert needs.connection is not None  # every platform asset has an effective connection
        name = needs.connection
        resolved = self.connections.get(name)
        if resolved is None:
            raise BruinError(self.connections.missing_message(name))
        self._check_resolvable(needs)
        self._received[asset.name] = [ReceivedSecret(name, "", resolved.connection.type_key, resolved.source)]
        return resolved.connection

    def _note(self, asset: Asset, text: str) -> None:
        stream = self.output.asset_stream(asset.name)
        stream.feed(text.encode() + b"\n")
        stream.close()

    def _execute_sql(self, asset: Asset, needs: Needs) -> None:
        from pybruin.platforms.run import run_sql_asset

        connection = self._sql_connection(asset, needs)
        renderer = self.renderer
        if self.context.full_refresh:
            if renderer.restricted(asset):
                self._note(asset, f'Warning: full refresh is restricted for asset "{asset.name}"; running '
                                  "incrementally.")  # fmt: skip
            elif Materialization.of(asset.materialization).strategy == "ddl":
                self._note(asset, "Full refresh detected, but DDL strategy is in use — table will NOT be dropped or "
                                  "recreated.")  # fmt: skip
        run_sql_asset(
            asset,
            connection,
            self._shared_databases(),
            rendered_sql=renderer.body(asset),
            schema_prefix=self.context.schema_prefix,
            full_refresh=renderer.full_refresh(asset),
            interval=renderer.time_window(asset),
            hooks=renderer.hooks(asset),
        )

    def _execute_seed(self, asset: Asset, needs: Needs) -> None:
        from pybruin.platforms.run import run_seed_asset

        connection = self._sql_connection(asset, needs)
        run_seed_asset(asset, connection, self._shared_databases(), schema_prefix=self.context.schema_prefix)

    def _shared_databases(self) -> Databases:
        with self._databases_lock:
            if self._databases is None:
                from pybruin.platforms.run import Databases

                self._databases = Databases()
            return self._databases

    def _close_databases(self) -> None:
        if self._databases is not None:
            self._databases.close()
