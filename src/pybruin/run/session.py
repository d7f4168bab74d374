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
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pybruin.config.bruin_yml import ignore_in_git
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.validate import require_valid, validate_pipeline
from pybruin.plan import build_plan
from pybruin.plan.tasks import SelectionError
from pybruin.platforms import RUNNABLE_ASSET_TYPES
from pybruin.records import Record, field, replace
from pybruin.run.child_env import ChildEnvironments
from pybruin.run.context import RunContext, make_context, new_run_id
from pybruin.run.leases import RunLeases
from pybruin.run.output import RunOutput
from pybruin.run.progress import Progress
from pybruin.run.rendering import AssetRenderer
from pybruin.run.report import RunReport
from pybruin.run.runner import Runner
from pybruin.run.state import (
    asset_status,
    compatibility_hash,
    latest_state,
    operating_system,
    saved_statuses,
    state_folder,
    write_state,
)
from pybruin.workspace import Project, ProjectSettings, load_target, open_project, open_store, protect_environment


def _default_python_cache() -> Path:
    return Path.home() / ".cache" / "pybruin" / "venvs"


class RunSettings(Record):
    """Everything `bruin run` can be told, as plain values (the CLI's flags, or a caller's arguments)."""

    project: ProjectSettings
    #: Asset files to run (several must be of one pipeline); empty: `project.path` (a pipeline or an asset).
    targets: tuple[Path, ...] = ()
    start_date: str | None = None
    end_date: str | None = None
    full_refresh: bool = False
    apply_interval_modifiers: bool = False
    variables: tuple[str, ...] = ()
    workers: int = 16
    downstream: bool = False
    tag: str | None = None
    exclude_tags: tuple[str, ...] = ()
    #: `--only` values: `main`, `checks`, `push-metadata` (none: everything).
    only: tuple[str, ...] = ()
    #: `--single-check`: the id of the one check to run.
    single_check: str | None = None
    validation: bool = True
    minimal_logs: bool = False
    #: `--continue`: run again what the pipeline's last run left failed or not run, with its parameters.
    resume: bool = False
    #: Recorded in the run state (pybruin never prompts).
    force: bool = False
    #: Recorded in the run state; assets with sensors are refused by the plan, so it changes nothing else yet.
    sensor_mode: str = ""
    mask_credentials: bool = True
    pristine_env: bool = False
    log_file: bool = True
    #: Whether the run's files in logs/runs/ are written: the manifest (`<run_id>.json`; it is always in the
    #: outcome too) and upstream's run state (`<pipeline>/<run_id>.json`).
    write_manifest: bool = True
    timestamps: bool = True
    color: bool = True
    #: A live progress line on a terminal, for runs longer than a few seconds.
    progress: bool = True
    debug: bool = False
    allow_debugging: bool = False
    python_cache: Path = field(default_factory=_default_python_cache)
    #: The command line as typed, recorded in the run state file (`bruin run ...`).
    cmdline: tuple[str, ...] = ()


class RunOutcome(Record):
    """What a run produced: its report and the masked manifest (None when there was nothing to run)."""

    report: RunReport | None
    manifest: str | None
    #: The run was `--single-check`: its exit status tells a failed check from a check that could not run.
    single_check: bool = False

    @property
    def succeeded(self) -> bool:
        return self.report is None or self.report.succeeded

    @property
    def exit_code(self) -> int:
        """0 on success; 1 on failure, except a `--single-check` that got no result to compare: 2 (upstream's)."""
        if self.report is None or self.report.succeeded:
            return 0
        return 2 if self.single_check and not self.report.checks_decided() else 1


def run_pipeline(settings: RunSettings, masker: Masker, terminal: BinaryIO) -> RunOutcome:
    """Run what `settings` select, writing pybruin's output to `terminal` (and the run log).

    `masker` is the caller's: whatever it registers stays masked in the caller's own error messages.
    Raises BruinError for anything that stops the run before it starts (bad config, invalid selection).
    """
    with _terminate_interrupts():
        return _run(settings, masker, terminal)


def _run(settings: RunSettings, masker: Masker, terminal: BinaryIO) -> RunOutcome:
    project = open_project(settings.project)
    pipeline, targets = _targets(settings)
    saved: dict[str, str] | None = None
    if settings.resume:
        state = latest_state(state_folder(project.root, pipeline.name), pipeline)
        saved = saved_statuses(state)
        settings = _restored(settings, state.get("parameters"))
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
        if not settings.minimal_logs:
            output.block(f"Analyzed the pipeline '{pipeline.name}' with {len(pipeline.assets)} assets.")
            if len(targets) == 1 and saved is None:
                output.block(f"Running only the asset '{targets[0].name}'")
            elif targets and saved is None:
                output.block(f"Running selected assets: {', '.join(asset.name for asset in targets)}")
        if settings.downstream and saved is None:
            output.block("The downstream tasks will be executed as well.")
            if not targets:
                raise BruinError("cannot use the --downstream flag when running the whole pipeline")
        try:
            plan = build_plan(
                pipeline,
                sql_types=RUNNABLE_ASSET_TYPES,
                targets=targets,
                downstream=settings.downstream,
                tag=settings.tag,
                exclude_tags=settings.exclude_tags,
                only=settings.only,
                single_check=settings.single_check,
                restore=saved,
            )
        except SelectionError as exc:
            raise BruinError(f"Failed to filter assets: {exc}") from None
        for warning in plan.warnings:
            output.block(warning)
        if not plan.tasks:
            output.block("No tasks to run.")
            return RunOutcome(None, None)
        if settings.validation:
            _validate(pipeline, settings, output)
        if not settings.minimal_logs:
            output.block(f"\nInterval: {_rfc3339(context.start)} - {_rfc3339(context.end)}")
            output.block("\nStarting the pipeline execution...\n\n")
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
            progress = _progress(settings, terminal, len(plan.tasks), project.environ)
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
                announce=not settings.minimal_logs,
                progress=progress,
            ).run()
        report.leases = leases.records()  # after the `with`: revoked by now
        if settings.single_check is not None:
            output.block(report.render_single_check(shown.mask))
        elif settings.minimal_logs:
            output.block(report.render_minimal(shown.mask))
        else:
            color = _colored(settings, terminal, project.environ)
            output.block(report.render_summary(color=color, mask=shown.mask, width=_terminal_width(terminal)))
        manifest = masker.mask(report.manifest_json())
        if settings.write_manifest:
            report.write_manifest(project.root / "logs" / "runs" / f"{context.run_id}.json", manifest)
            _write_state(project, pipeline, report, settings, context, masker)
    finally:
        output.close()
    return RunOutcome(report, manifest, single_check=settings.single_check is not None)


def _targets(settings: RunSettings) -> tuple[Pipeline, list[Asset]]:
    """The pipeline and the asset files given (none: the whole pipeline)."""
    paths = settings.targets or (settings.project.path,)
    loaded = [load_target(path) for path in paths]
    pipeline = loaded[0][0]
    if any(other.directory != pipeline.directory for other, _ in loaded):
        raise BruinError("all the assets given must belong to the same pipeline")
    targets = [asset for _, asset in loaded if asset is not None]
    if len(paths) > 1 and len(targets) != len(paths):
        raise BruinError("several paths must all be asset files of one pipeline")
    return pipeline, targets


def _restored(settings: RunSettings, parameters: object) -> RunSettings:
    """The last run's parameters (dates, full refresh, workers, ...); the environment stays the CLI's."""
    if not isinstance(parameters, dict):
        return settings
    restored: dict[str, object] = {}
    for key, attribute in (("startDate", "start_date"), ("endDate", "end_date")):
        if isinstance(parameters.get(key), str) and parameters[key]:
            restored[attribute] = parameters[key]
    for key, attribute in (("fullRefresh", "full_refresh"), ("applyIntervalModifiers", "apply_interval_modifiers")):
        if isinstance(parameters.get(key), bool):
            restored[attribute] = parameters[key]
    if isinstance(parameters.get("workers"), int) and parameters["workers"] > 0:
        restored["workers"] = parameters["workers"]
    return replace(settings, **restored)


def _validate(pipeline: Pipeline, settings: RunSettings, output: RunOutput) -> None:
    """Upstream's pre-run lint: the pipeline's critical issues, printed like `bruin validate` prints them."""
    from pybruin.inspection.validation import PipelineResult, ValidationReport, render_pipelines, render_summary

    issues = [issue for issue in validate_pipeline(pipeline, None) if issue.severity == "error"]
    report = ValidationReport([PipelineResult(pipeline, issues, len(pipeline.assets))])
    given = settings.targets[0] if settings.targets else settings.project.path
    base = given if given.is_dir() else given.parent
    output.block(render_pipelines(report, base) + "\n\n" + render_summary(report, str(given)))
    require_valid(pipeline, issues)  # the tree is on stdout, as upstream prints it; one line for scripts on stderr


def _write_state(
    project: Project,
    pipeline: Pipeline,
    report: RunReport,
    settings: RunSettings,
    context: RunContext,
    masker: Masker,
) -> None:
    """`logs/runs/<pipeline>/<run id>.json`, upstream's run state (every asset of the pipeline listed)."""
    from pybruin import __version__
    from pybruin.documents.encoding import encode
    from pybruin.documents.run_state import AssetState, RunMetadata, RunParameters, RunStateDocument

    by_asset = report.statuses_by_asset()
    parameters = RunParameters(
        downstream=settings.downstream,
        start_date=settings.start_date or _flag_date(context.start),
        end_date=settings.end_date or _flag_date(context.end),
        workers=settings.workers,
        environment=settings.project.environment or "",
        force=settings.force,
        no_log_file=not settings.log_file,
        full_refresh=settings.full_refresh,
        tag=settings.tag or "",
        exclude_tags=list(dict.fromkeys(settings.exclude_tags)),
        only=list(settings.only) or None,
        config_file_path=settings.project.config_file or "",
        sensor_mode=settings.sensor_mode,
        apply_interval_modifiers=settings.apply_interval_modifiers,
    )
    document = RunStateDocument(
        cmdline=list(settings.cmdline),
        parameters=parameters,
        metadata=RunMetadata(__version__, operating_system()),
        state=[AssetState(a.name, asset_status(by_asset.get(a.name, ["skipped"]))) for a in pipeline.assets],
        timestamp=datetime.now().astimezone().isoformat(),
        run_id=context.run_id,
        compatibility_hash=compatibility_hash(pipeline),
    )
    if (project.root / ".git").exists():
        ignore_in_git(project.root, ["logs/runs"])
    folder = state_folder(project.root, pipeline.name)
    write_state(folder / f"{context.run_id}.json", masker.mask(encode(document, indent=True)) + "\n")


def _flag_date(moment: datetime) -> str:
    """The default dates as upstream records them: `YYYY-MM-DD HH:MM:SS.ffffff`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if not moment.utcoffset() else moment.strftime("%z"))


def _progress(settings: RunSettings, terminal: BinaryIO, total: int, environ: Mapping[str, str]) -> Progress | None:
    """The live progress line: only on a terminal, never with `--minimal-logs`; plain with `--no-color`."""
    if not settings.progress or settings.minimal_logs or not terminal.isatty():
        return None
    return Progress(total, color=_colored(settings, terminal, environ))


def _colored(settings: RunSettings, terminal: BinaryIO, environ: Mapping[str, str]) -> bool:
    """Colours on a terminal, unless `--no-color` or `NO_COLOR` turn them off."""
    return settings.color and terminal.isatty() and "NO_COLOR" not in environ


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
