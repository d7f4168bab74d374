"""Executes a resolved plan: one pipeline, the assets chosen to run, and where connections come from."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pybruin.config.connections import Connection
from pybruin.errors import BruinError
from pybruin.pipeline.dag import upstreams
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.platforms import SQL_ASSET_TYPES, default_connection_name
from pybruin.run.context import RunContext
from pybruin.run.injection import (
    ConnectionSource,
    ReceivedSecret,
    asset_environment,
    base_environment,
    secret_variables,
)
from pybruin.run.output import RunOutput
from pybruin.run.processes import ChildProcesses, PythonEnvironments, python_path, rscript_path
from pybruin.run.report import RunReport
from pybruin.run.scheduler import Limits, Status, TaskResult, run_tasks

if TYPE_CHECKING:
    from pybruin.platforms.run import Databases

NO_OP_TYPES = frozenset({"empty"})


class PrefetchingSource(ConnectionSource, Protocol):
    def prefetch(self, names: Iterable[str]) -> None:
        """Read every name up front, concurrently; errors are kept for the assets that need them."""


@dataclass
class RunSettings:
    project_root: Path
    parent_env: Mapping[str, str]
    withheld: Callable[[str], bool]
    workers: int = 16
    pristine_env: bool = False
    debug: bool = False
    python_cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "pybruin" / "venvs")


def sql_connection_name(asset: Asset, pipeline: Pipeline) -> str:
    """The asset's connection, else the pipeline default for its platform, else the platform's default name."""
    return asset.connection or default_connection_name(asset.type, pipeline.default_connections)


def connections_needed(assets: Iterable[Asset], pipeline: Pipeline) -> list[str]:
    names: dict[str, None] = {}
    for asset in assets:
        names.update(dict.fromkeys(secret.key for secret in asset.secrets))
        if asset.type in SQL_ASSET_TYPES:
            names[sql_connection_name(asset, pipeline)] = None
    return list(names)


class Runner:
    """Runs the chosen assets of one pipeline and reports on them."""

    def __init__(
        self,
        pipeline: Pipeline,
        context: RunContext,
        connections: PrefetchingSource,
        output: RunOutput,
        settings: RunSettings,
        *,
        environment_name: str,
    ) -> None:
        self.pipeline = pipeline
        self.context = context
        self.connections = connections
        self.output = output
        self.settings = settings
        self.environment_name = environment_name
        self._run_variables = context.environment()
        self._received: dict[str, list[ReceivedSecret]] = {}
        parent, withheld = settings.parent_env, settings.withheld
        inherited = base_environment(parent, withheld=withheld, pristine=False)
        pristine = settings.pristine_env or pipeline.pristine_env
        self._asset_base = base_environment(parent, withheld=withheld, pristine=True) if pristine else inherited
        self._children = ChildProcesses()
        self._pythons = PythonEnvironments(settings.python_cache, inherited, self._children)
        self._databases: Databases | None = None
        self._databases_lock = threading.Lock()

    def run(self, selected: Sequence[str], skipped: Sequence[str]) -> RunReport:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        started = time.monotonic()
        assets = [asset for asset in map(self.pipeline.asset, selected) if asset is not None]
        needed = connections_needed(assets, self.pipeline)
        self.connections.prefetch(needed)
        caps = {}
        for name in needed:
            resolved = self._lookup_quietly(name)
            if resolved is not None:
                self.output.protect(resolved)
                if resolved.max_concurrent_assets:
                    caps[name] = resolved.max_concurrent_assets
        limits = Limits(caps, {asset.name: self._connection_names(asset) for asset in assets})

        self.output.line(f"Interval: {self.context.start.isoformat()} - {self.context.end.isoformat()}")
        self.output.line("Starting the pipeline execution...")
        try:
            results = run_tasks(
                selected,
                upstreams(self.pipeline),
                self._run_one,
                workers=self.settings.workers,
                limits=limits,
                describe_error=self._describe_error,
                on_done=self._announce,
                stop=self._children.stop,
            )
        finally:
            self._close_databases()
        ordered = [
            results.get(a.name) or TaskResult(a.name, Status.SKIPPED)
            for a in self.pipeline.assets
            if a.name in results or a.name in skipped
        ]
        return RunReport(
            run_id=self.context.run_id,
            pipeline=self.pipeline.name,
            environment=self.environment_name,
            started_at=started_at,
            duration=time.monotonic() - started,
            results=ordered,
            received=self._received,
            types={a.name: a.type for a in self.pipeline.assets},
        )

    def _run_one(self, name: str) -> None:
        asset = self.pipeline.asset(name)
        assert asset is not None
        self.output.line(f"Running:  {name}")
        self._execute(asset)

    def _lookup_quietly(self, name: str) -> Connection | None:
        try:
            resolved = self.connections.get(name)
        except BruinError:
            return None
        return resolved.connection if resolved else None

    def _connection_names(self, asset: Asset) -> list[str]:
        if asset.type in SQL_ASSET_TYPES:
            return [sql_connection_name(asset, self.pipeline)]
        return [asset.connection] if asset.connection else []

    def _announce(self, result: TaskResult) -> None:
        if result.status is Status.SUCCEEDED:
            self.output.line(f"Finished: {result.name} ({result.duration:.2f}s)")
        elif result.status is Status.FAILED:
            self.output.line(f"Failed: {result.name} ({result.duration:.2f}s): {result.error}")
        else:
            self.output.line(f"Skipped: {result.name} (an upstream asset failed)")

    def _describe_error(self, error: BaseException) -> str:
        if self.settings.debug:
            self.output.block("".join(traceback.format_exception(error)))
        if isinstance(error, BruinError):
            return str(error)
        return f"unexpected error: {type(error).__name__}: {error}"

    def _execute(self, asset: Asset) -> None:
        if asset.type in ("python", "r"):
            self._execute_process(asset)
        elif asset.type in SQL_ASSET_TYPES:
            self._execute_sql(asset)
        elif asset.type not in NO_OP_TYPES:
            raise BruinError(f"asset type '{asset.type}' is not supported by pybruin yet")

    def _execute_process(self, asset: Asset) -> None:
        secrets, received = secret_variables(asset, self.connections)
        self._received[asset.name] = received
        env = asset_environment(asset, base=self._asset_base, run_variables=self._run_variables, secrets=secrets)
        root = self.settings.project_root
        if self._databases is not None:
            self._databases.release_idle()
        stream = self.output.asset_stream(asset.name)
        try:
            if asset.type == "python":
                interpreter = self._pythons.interpreter(asset, root, stream)
                env["PYTHONPATH"] = python_path(root, env.get("PYTHONPATH"))
                argv = [interpreter, str(asset.executable_file.resolve())]
                kind = "Python"
            else:
                argv = [rscript_path(), str(asset.executable_file.resolve())]
                kind = "R"
            code = self._children.run(argv, env=env, cwd=root, stream=stream)
        finally:
            stream.close()
        if code != 0:
            raise BruinError(f"failed to execute {kind} script: exit status {code}")

    def _execute_sql(self, asset: Asset) -> None:
        from pybruin.platforms.run import run_sql_asset
        from pybruin.run.templating import render_sql

        name = sql_connection_name(asset, self.pipeline)
        resolved = self.connections.get(name)
        if resolved is None:
            raise BruinError(self.connections.missing_message(name))
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
