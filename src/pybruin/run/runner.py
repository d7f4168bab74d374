"""Executes a frozen plan: each main task by the kind of its asset, each check on the asset's connection, in
dependency order, reported at the end."""

from __future__ import annotations

import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pybruin.durations import SECOND, format_go_duration
from pybruin.errors import BruinError
from pybruin.pipeline.materialization import Materialization
from pybruin.pipeline.model import ColumnCheck, CustomCheck
from pybruin.plan import Plan, Task, TaskKind
from pybruin.plan.unsupported import NO_OP_TYPES
from pybruin.platforms import SEED_ASSET_TYPES, SQL_ASSET_TYPES
from pybruin.records import replace
from pybruin.run.bootstrap import python_launch
from pybruin.run.cancel import Cancellation, Why, deadline
from pybruin.run.child_env import (
    ChildEnvironments,
    ConnectionSource,
    ReceivedSecret,
    SecretNotReceived,
    missing_secret_message,
    run_variables,
)
from pybruin.run.context import RunContext
from pybruin.run.leases import LeasingStore
from pybruin.run.materialize import ArrowReceiver, child_script, materialization_problem, materializes
from pybruin.run.output import RunOutput
from pybruin.run.processes import ChildProcesses, rscript_path
from pybruin.run.progress import Progress
from pybruin.run.python_envs import PythonEnvironments
from pybruin.run.rendering import AssetRenderer
from pybruin.run.report import CheckReport, RunReport
from pybruin.run.scheduler import Limits, Status, TaskResult, run_tasks

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Asset
    from pybruin.pipeline.needs import Needs
    from pybruin.platforms.checks import CheckOutcome
    from pybruin.platforms.run import Databases
    from pybruin.run.leases import RunLeases

PROCESS_KINDS = {"python": "Python", "r": "R"}


class RunConnections(ConnectionSource, LeasingStore, Protocol):
    """The run's view of the connection store (see `pybruin.secrets.view`)."""

    def prefetch(
        self, names: Iterable[str], *, on_read: Callable[[str], None] | None = None, wait: bool = True
    ) -> None:
        """Read every name concurrently, telling `on_read` of each as it is in; errors are kept for the assets
        that need them. With `wait=False` the reads go on in the background."""

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
        allow_debugging: bool = False,
        leases: RunLeases | None = None,
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
        self.announce = announce
        self.progress = progress
        #: Python assets run without the bootstrap: dumpable (debuggers can attach), secrets in their environment.
        self.allow_debugging = allow_debugging
        #: Where per-run credentials are issued (and later revoked) as their connections are read.
        self.leases = leases
        self._received: dict[str, list[ReceivedSecret]] = {}
        self._check_outcomes: dict[str, CheckOutcome] = {}
        self._children = ChildProcesses()
        self._pythons = PythonEnvironments(python_cache, environments.tool(), self._children, say=output.line)
        self._databases: Databases | None = None
        self._databases_lock = threading.Lock()
        self._tasks = {task.id: task for task in plan.tasks}
        self._began: set[str] = set()  # tasks a worker started (a refused task fails without starting)
        self._running: dict[str, Cancellation] = {}
        self._running_lock = threading.Lock()
        self._interrupted = False

    def run(self) -> RunReport:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        started = time.monotonic()
        limits = Limits(self._cap, {task.id: self.plan.connections_used(task) for task in self.plan.tasks})
        waiting_for = {task.id: set(self.plan.needs[task.asset].names) for task in self.plan.runnable()}
        held = [task_id for task_id, names in waiting_for.items() if names]

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
                stop=self._stop,
                refused=self.plan.refused,
                held=held,
                watch=lambda release: self._read_needs(waiting_for, release),
            )
        finally:
            if self.progress is not None:
                self.progress.close()
            self._close_databases()
        pipeline = self.plan.pipeline
        shown = set(self.plan.skipped) | {task.asset for task in self.plan.tasks}
        ordered = [
            results.get(asset.name) or TaskResult(asset.name, Status.SKIPPED)
            for asset in pipeline.assets
            if asset.name in shown
        ]
        checks = [
            CheckReport(task, results[task.id], self._check_outcomes.get(task.id))
            for task in self.plan.tasks
            if task.kind is not TaskKind.MAIN and task.id in results
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
            checks=checks,
        )

    def _run_one(self, task_id: str) -> None:
        task = self._tasks[task_id]
        asset = self.plan.asset(task)
        cancellation = Cancellation()
        with self._running_lock:
            self._running[task_id] = cancellation
            if self._interrupted:
                cancellation.cancel(Why.INTERRUPTED)
        self._began.add(task_id)
        if self.progress is not None:
            self.progress.started()
        if self.announce:
            self.output.line(f"Running:  {task.id}")
        seconds = asset.timeout / SECOND if asset.timeout else None
        try:
            with deadline(cancellation, seconds):
                if task.kind is TaskKind.MAIN:
                    self._execute(task, cancellation)
                else:
                    self._execute_check(task, cancellation)
        except Exception:
            if cancellation.reason is None:
                raise
        finally:
            with self._running_lock:
                del self._running[task_id]
        if cancellation.reason is Why.TIMEOUT:
            assert asset.timeout is not None
            raise BruinError(f'asset "{asset.name}" timed out after {format_go_duration(asset.timeout)}')
        if cancellation.reason is Why.INTERRUPTED:
            raise BruinError("the run was interrupted")

    def _stop(self) -> None:
        """The run is interrupted: no process starts any more, and every running task is stopped."""
        self._children.stop()
        with self._running_lock:
            self._interrupted = True
            running = list(self._running.values())
        for cancellation in running:
            cancellation.cancel(Why.INTERRUPTED)

    def _read_needs(self, waiting_for: dict[str, set[str]], release: Callable[[str], None]) -> None:
        """Read every connection the run needs, concurrently and in the background, and release each task
        as soon as its own are in (read, or failed): a slow store holds only the assets that need it."""
        by_name: dict[str, list[str]] = {}
        for task_id in waiting_for:  # in plan order, so stores are asked in the order assets need them
            for name in self.plan.needs[self._tasks[task_id].asset].names:
                by_name.setdefault(name, []).append(task_id)
        lock = threading.Lock()

        def read(name: str) -> None:
            if self.leases is not None:  # a per-run user is issued before any asset that needs it starts
                self.leases.take(self.connections, name)
            connection = self._lookup_quietly(name)
            if connection is not None:  # masked before any asset that could print it starts
                self.output.masker.protect_connection(connection)
            with lock:
                for task_id in by_name.get(name, ()):
                    waiting_for[task_id].discard(name)
                    if not waiting_for[task_id]:
                        release(task_id)

        self.connections.prefetch(list(by_name), on_read=read, wait=False)

    def _cap(self, name: str) -> int | None:
        """A connection's `max_concurrent_assets`; asked only once the tasks using it were released."""
        connection = self._lookup_quietly(name)
        return connection.max_concurrent_assets if connection is not None else None

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

    def _execute(self, task: Task, cancellation: Cancellation) -> None:
        asset = self.plan.asset(task)
        needs = self.plan.needs[asset.name]
        if asset.type in PROCESS_KINDS:
            self._execute_process(asset, needs, cancellation)
        elif asset.type in SQL_ASSET_TYPES:
            self._execute_sql(asset, needs, cancellation)
        elif asset.type in SEED_ASSET_TYPES:
            self._execute_seed(asset, needs, cancellation)
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

    def _execute_process(self, asset: Asset, needs: Needs, cancellation: Cancellation) -> None:
        python = asset.type == "python"
        try:
            env, received = self.environments.asset(asset.name, needs, self.connections, python=python)
        except SecretNotReceived as err:
            if err.also:
                self.output.line(f"[{asset.name}] {err.also}")
            raise
        self._received[asset.name] = received
        env.update(self._asset_run_variables(asset))
        destination = self._destination(asset, needs) if python and materializes(asset) else None
        if self._databases is not None:
            self._databases.release_idle()
        stream = self.output.asset_stream(asset.name)
        file = str(asset.executable_file.resolve())
        pipe = None
        receiver = None
        try:
            cwd = self.project_root
            if python:
                interpreter = self._pythons.interpreter(asset, self.project_root, stream, arrow=bool(destination))
                cwd = self._pythons.working_directory(asset, self.project_root)
                script = [file]
                if destination is not None:  # materialize() sends its data back through a pipe
                    receiver = ArrowReceiver()
                    env.update(receiver.environment())
                    script = child_script(asset, self.project_root)
                argv = [interpreter, *script]
                if not self.allow_debugging:  # not dumpable, its secrets out of its environment block
                    hidden = {secret.inject_as: env.pop(secret.inject_as) for secret in received
                              if secret.inject_as in env}  # fmt: skip
                    argv, pipe = python_launch(interpreter, script, hidden)
            else:
                argv = [rscript_path(), file]
            code = self._children.run(
                argv, env=env, cwd=cwd, stream=stream, cancellation=cancellation, pipe=pipe,
                pass_fds=(receiver.write_fd,) if receiver else (),
            )  # fmt: skip
        finally:
            if receiver is not None:
                receiver.finish()
            stream.close()
        if code != 0:
            step = "failed to run asset code: " if receiver else ""  # upstream's words for each
            raise BruinError(f"failed to execute {PROCESS_KINDS[asset.type]} script: {step}exit status {code}")
        if receiver is not None and destination is not None:
            self._load(asset, destination, receiver, cancellation)

    def _destination(self, asset: Asset, needs: Needs) -> Connection:
        """The connection a materializing Python asset's data goes to; upstream's refusals first, then what
        pybruin cannot load there."""
        from pybruin.platforms.run import python_data_platform

        problem = materialization_problem(asset)
        if problem is not None:
            raise BruinError(problem)
        if needs.connection is None:
            raise BruinError("A task with materialization must have a connection defined")
        resolved = self.connections.get(needs.connection)
        if resolved is None:
            raise BruinError(self.connections.missing_message(needs.connection))
        python_data_platform(resolved.connection, asset)  # refused before the asset's code runs
        return resolved.connection

    def _load(self, asset: Asset, destination: Connection, receiver: ArrowReceiver, cancellation: Cancellation) -> None:
        """Load what `materialize()` returned into the asset's table (upstream's messages around it)."""
        from pybruin.platforms.run import load_python_asset

        data = receiver.result()
        if data is None:
            self.output.line("WARNING: materialize() returned None, skipping materialization", asset.name)
            return
        self.output.line("Successfully collected the data from the asset, uploading to the destination...", asset.name)
        try:
            load_python_asset(asset, destination, self._shared_databases(), data,
                              schema_prefix=self.context.schema_prefix, full_refresh=self.renderer.full_refresh(asset),
                              interval=self.renderer.time_window(asset), cancellation=cancellation)  # fmt: skip
        except BruinError as exc:
            raise BruinError(
                f"failed to execute Python script: failed to load the data into the destination: {exc}"
            ) from None
        self.output.line("Successfully loaded the data from the asset into the destination.", asset.name)

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

    def _execute_sql(self, asset: Asset, needs: Needs, cancellation: Cancellation) -> None:
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
            cancellation=cancellation,
        )

    def _execute_check(self, task: Task, cancellation: Cancellation) -> None:
        """A column or custom check, on the connection the asset's table lives on; what it queried and got is
        kept for the report, passed or not."""
        from pybruin.platforms.checks import CheckFailed

        asset = self.plan.asset(task)
        name = self.plan.needs[asset.name].connection
        if name is None:
            raise BruinError(f"asset '{asset.name}' has no connection to run its quality checks on")
        resolved = self.connections.get(name)
        if resolved is None:
            raise BruinError(self.connections.missing_message(name))
        try:
            self._check_outcomes[task.id] = self._decide(task, asset, resolved.connection, cancellation)
        except CheckFailed as failed:
            self._check_outcomes[task.id] = failed.outcome
            raise

    def _decide(self, task: Task, asset: Asset, connection: Connection, cancellation: Cancellation) -> CheckOutcome:
        from pybruin.platforms.run import run_column_check, run_custom_check

        databases = self._shared_databases()
        if isinstance(task.check, ColumnCheck):
            assert task.column is not None, task
            return run_column_check(asset, task.column, task.check, connection, databases,
                                    schema_prefix=self.context.schema_prefix, cancellation=cancellation)  # fmt: skip
        assert isinstance(task.check, CustomCheck), task
        try:
            rendered = self.renderer.render(asset, task.check.query)
        except BruinError as exc:
            raise BruinError(f"failed to render custom check query: {exc}") from None
        return run_custom_check(
            asset, task.check, connection, databases, rendered_query=rendered, cancellation=cancellation
        )

    def _execute_seed(self, asset: Asset, needs: Needs, cancellation: Cancellation) -> None:
        from pybruin.platforms.run import run_seed_asset

        connection = self._sql_connection(asset, needs)
        run_seed_asset(asset, connection, self._shared_databases(), schema_prefix=self.context.schema_prefix,
                       cancellation=cancellation)  # fmt: skip

    def _shared_databases(self) -> Databases:
        with self._databases_lock:
            if self._databases is None:
                from pybruin.platforms.run import Databases

                self._databases = Databases()
            return self._databases

    def _close_databases(self) -> None:
        if self._databases is not None:
            self._databases.close()
