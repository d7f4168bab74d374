"""The composition root of `bruin run`: settings in, report out.

Everything a run needs is built here and only here, from one explicit settings object: the project and
its environment, the frozen plan, the run context, the masker and the output (terminal and run log), the
connection store, the child environments and the runner; the summary and the manifest are written here
too. The CLI only turns flags into `RunSettings`; the Airflow integration and the tooling commands call
`run_pipeline` directly, without click.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.pipeline.validate import require_valid
from pybruin.plan import build_plan
from pybruin.platforms import RUNNABLE_ASSET_TYPES
from pybruin.run.child_env import ChildEnvironments
from pybruin.run.context import RunContext, make_context, new_run_id
from pybruin.run.leases import RunLeases
from pybruin.run.output import RunOutput
from pybruin.run.rendering import AssetRenderer
from pybruin.run.report import RunReport
from pybruin.run.runner import Runner
from pybruin.workspace import ProjectSettings, load_target, open_project, open_store, protect_environment


def _default_python_cache() -> Path:
    return Path.home() / ".cache" / "pybruin" / "venvs"


@dataclass(frozen=True)
class RunSettings:
    """Everything `bruin run` can be told, as plain values (the CLI's flags, or a caller's arguments)."""

    project: ProjectSettings
    start_date: str | None = None
    end_date: str | None = None
    full_refresh: bool = False
    apply_interval_modifiers: bool = False
    variables: tuple[str, ...] = ()
    workers: int = 16
    downstream: bool = False
    #: `--only` values: `main`, `checks`, `push-metadata` (none: everything).
    only: tuple[str, ...] = ()
    #: `--single-check`: the id of the one check to run.
    single_check: str | None = None
    mask_credentials: bool = True
    pristine_env: bool = False
    log_file: bool = True
    #: Whether the manifest is also written to logs/runs/<run_id>.json (it is always in the outcome).
    write_manifest: bool = True
    timestamps: bool = True
    color: bool = True
    debug: bool = False
    allow_debugging: bool = False
    python_cache: Path = field(default_factory=_default_python_cache)


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: its report and the masked manifest (None when there was nothing to run)."""

    report: RunReport | None
    manifest: str | None

    @property
    def succeeded(self) -> bool:
        return self.report is None or self.report.succeeded


def run_pipeline(settings: RunSettings, masker: Masker, terminal: BinaryIO) -> RunOutcome:
    """Run what `settings` select, writing pybruin's output to `terminal` (and the run log).

    `masker` is the caller's: whatever it registers stays masked in the caller's own error messages.
    Raises BruinError for anything that stops the run before it starts (bad config, invalid pipeline).
    """
    with _terminate_interrupts():
        return _run(settings, masker, terminal)


def _run(settings: RunSettings, masker: Masker, terminal: BinaryIO) -> RunOutcome:
    project = open_project(settings.project)
    pipeline, target = load_target(settings.project.path)
    if settings.downstream and target is None:
        raise BruinError("cannot use the --downstream flag when running the whole pipeline")
    require_valid(pipeline)
    try:
        plan = build_plan(
            pipeline,
            sql_types=RUNNABLE_ASSET_TYPES,
            targets=[target] if target is not None else (),
            downstream=settings.downstream,
            only=settings.only,
            single_check=settings.single_check,
        )
    except BruinError as exc:
        raise BruinError(f"Failed to filter assets: {exc}") from None
    context = _run_context(settings, project.environ, pipeline_name=pipeline.name, commit=pipeline.commit,
                           schema_prefix=project.environment.schema_prefix, declared=pipeline.variables,
                           refresh_restricted=project.environment.full_refresh_restricted)  # fmt: skip
    renderer = AssetRenderer(context, pipeline)
    renderer.check_hooks(pipeline.assets)

    shown = masker if settings.mask_credentials else Masker(enabled=False)
    log_path = project.root / "logs" / f"{context.run_id}__{pipeline.name}.log" if settings.log_file else None
    output = RunOutput(shown, terminal, log_path, timestamps=settings.timestamps)
    shown.warn_to(output.line)
    try:
        protect_environment(project, shown)
        if settings.apply_interval_modifiers and settings.full_refresh:
            output.line("Warning: --apply-interval-modifiers flag is ignored when --full-refresh is enabled.")
        if not plan.tasks:
            output.line("No tasks to run.")
            return RunOutcome(None, None)
        # The leases are revoked before the store closes: on success, failure, Ctrl-C and SIGTERM alike.
        with open_store(project, settings.project, masker) as connections, RunLeases(output, shown) as leases:
            environments = ChildEnvironments(
                project.environ,
                store_credentials=connections.sdk_credentials,
                withheld=project.environment.withheld_variables,
                pristine=settings.pristine_env or pipeline.pristine_env,
                context=context,
                project_root=project.root,
            )
            report = Runner(
                plan,
                context,
                connections,
                output,
                environments,
                project_root=project.root,
                environment_name=project.environment.name,
                workers=settings.workers,
                debug=settings.debug,
                python_cache=settings.python_cache,
                allow_debugging=settings.allow_debugging,
                leases=leases,
                renderer=renderer,
            ).run()
        report.leases = leases.records()  # after the `with`: revoked by now
        color = settings.color and terminal.isatty() and "NO_COLOR" not in project.environ
        output.block(report.render_summary(color=color, mask=shown.mask, width=_terminal_width(terminal)))
        manifest = masker.mask(report.manifest_json())
        if settings.write_manifest:
            report.write_manifest(project.root / "logs" / "runs" / f"{context.run_id}.json", manifest)
    finally:
        output.close()
    return RunOutcome(report, manifest)


def _run_context(
    settings: RunSettings,
    environ: Mapping[str, str],
    *,
    pipeline_name: str,
    commit: str,
    schema_prefix: str,
    declared: Mapping[str, Mapping[str, object]],
    refresh_restricted: bool,
) -> RunContext:
    return make_context(
        start_date=settings.start_date,
        end_date=settings.end_date,
        variables=settings.variables,
        declared=declared,
        run_id=new_run_id(environ),
        pipeline=pipeline_name,
        commit=commit,
        full_refresh=settings.full_refresh,
        schema_prefix=schema_prefix,
        refresh_restricted=refresh_restricted,
        apply_interval_modifiers=settings.apply_interval_modifiers and not settings.full_refresh,
    )


@contextlib.contextmanager
def _terminate_interrupts() -> Iterator[None]:
    """While the run lasts, SIGTERM interrupts it as Ctrl-C does, so it unwinds and revokes its leases.

    Only when nobody else handles SIGTERM (its default would end the process without unwinding), and only
    on the main thread, which is where signals arrive.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _terminal_width(terminal: BinaryIO) -> int:
    try:
        return max(80, os.get_terminal_size(terminal.fileno()).columns)
    except OSError:
        return 120
