"""`bruin validate` without click: structural rules, features pybruin cannot run yet, every name each asset
needs checked against the selected store, and warnings when the config file is tracked by git — then the
report as upstream prints it (plain) or as its JSON document.

A path that is a folder or a pipeline file validates every pipeline below it ("folder mode"); any other
path is one asset, and only that asset's issues count ("asset mode"), as upstream does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pybruin.config.bruin_yml import CONTENT_VARIABLE
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.pipeline.checks import has_checks
from pybruin.pipeline.loader import PIPELINE_FILE_NAMES, find_pipeline_dirs, load_pipeline
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.needs import asset_needs
from pybruin.pipeline.validate import Issue, validate_pipeline
from pybruin.plan.unsupported import NearbyFiles, unsupported_reasons
from pybruin.platforms import RUNNABLE_ASSET_TYPES, SQL_ASSET_TYPES, platform_for_connection
from pybruin.records import Record, field
from pybruin.secrets.view import StoreView
from pybruin.workspace import Project, ProjectSettings, load_target, open_project, open_store, pipelines_under

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

#: The rule name pybruin's feature refusals are reported under.
UNSUPPORTED_RULE = "pybruin-unsupported"


class PipelineResult(Record):
    pipeline: Pipeline
    issues: list[Issue]
    #: Assets counted in "Successfully validated N assets" (those without an excluded tag).
    assets: int


class KnownConnections(Protocol):
    """The connections of the selected store: `name in known`, and the connection itself."""

    def __contains__(self, name: object) -> bool: ...

    def get(self, name: str) -> Connection | None: ...


class ValidationReport(Record):
    results: list[PipelineResult]
    #: Issues about the config file itself (not any pipeline's).
    config_issues: list[Issue] = field(default_factory=list)
    environment: str = "default"
    #: The asset file validated alone (asset mode), else None.
    asset: Path | None = None

    @property
    def pipelines(self) -> list[Pipeline]:
        return [result.pipeline for result in self.results]

    @property
    def issues(self) -> list[Issue]:
        return [*self.config_issues, *(issue for result in self.results for issue in result.issues)]

    @property
    def errors(self) -> int:
        return sum(issue.severity == "error" for issue in self.issues)

    @property
    def warnings(self) -> int:
        return sum(issue.severity == "warning" for issue in self.issues)

    @property
    def assets(self) -> int:
        return sum(result.assets for result in self.results)


def is_asset_mode(path: Path) -> bool:
    return not path.is_dir() and path.name not in PIPELINE_FILE_NAMES


def validate_project(
    settings: ProjectSettings,
    masker: Masker,
    *,
    exclude_tags: Sequence[str] = (),
    exclude_warnings: bool = False,
    exclude_paths: Sequence[str] = (),
) -> ValidationReport:
    """Every issue found under `settings.path`. Names are checked in `.bruin.yml`'s environment, or in the
    secrets backend when one is selected (each name read once)."""
    asset_file = settings.path if is_asset_mode(settings.path) else None
    if asset_file is not None and exclude_tags:
        raise BruinError("exclude-tag flag is not supported for asset-only validation")
    project = open_project(settings)
    if asset_file is not None:
        pipeline, target = _asset_target(asset_file)
        pipelines, only = [pipeline], target
    else:
        pipelines, only = _pipelines(settings.path, exclude_paths), None
    config_issues = _config_issues(project)
    sql_types = RUNNABLE_ASSET_TYPES
    results = []
    if settings.secrets_backend:
        with open_store(project, settings, masker) as store:
            store.prefetch(name for pipeline in pipelines for name in _names(pipeline))
            known: KnownConnections = StoreNames(store)
            where = f"secrets backend '{store.store_name}'"
            results = [_pipeline_result(p, known, where, sql_types, exclude_tags, only) for p in pipelines]
    else:
        where = f"environment '{project.environment.name}'"
        known = project.environment.connections
        results = [_pipeline_result(p, known, where, sql_types, exclude_tags, only) for p in pipelines]
    if exclude_warnings:
        config_issues = []
        results = [PipelineResult(r.pipeline, [i for i in r.issues if i.severity != "warning"], r.assets)
                   for r in results]  # fmt: skip
    return ValidationReport(results, config_issues, project.environment.name, asset_file)


def _pipelines(path: Path, exclude_paths: Sequence[str]) -> list[Pipeline]:
    if not path.exists():
        raise BruinError("the given pipeline path does not exist, please make sure you gave the right path")
    if path.is_dir() and not any((path / name).is_file() for name in PIPELINE_FILE_NAMES):
        pipelines = [load_pipeline(directory) for directory in find_pipeline_dirs(path)]
    else:
        pipelines = pipelines_under(path)
    excluded = [os.path.abspath(prefix) for prefix in exclude_paths]
    found = [p for p in pipelines if not any(str(p.directory).startswith(e) for e in excluded)]
    if not found:
        raise BruinError(f"no pipelines found in path '{path}'")
    return sorted(found, key=lambda pipeline: str(pipeline.directory))


def _asset_target(path: Path) -> tuple[Pipeline, Asset]:
    """The asset a file path (or, from inside its pipeline, an asset name) designates, and its pipeline."""
    if path.is_file():
        pipeline, asset = load_target(path)
        assert asset is not None  # a pipeline file is folder mode
        return pipeline, asset
    from pybruin.inspection.parsing import pipeline_root  # its documents cost `bruin run`'s own validation

    try:
        root = pipeline_root(path)
    except BruinError as exc:
        raise BruinError(f"Failed to find the pipeline root for the given asset: {exc}") from None
    pipeline = load_pipeline(root)
    named = [asset for asset in pipeline.assets if asset.name == path.name]
    if len(named) > 1:
        raise BruinError(
            f"there are {len(named)} assets with the name '{path.name}', you'll have to use an asset path or go to "
            "the pipeline directory"
        )
    if not named:
        raise BruinError(f"failed to find an asset with the path or name '{path}' under the path '{root}'")
    return pipeline, named[0]


def _pipeline_result(
    pipeline: Pipeline,
    known: KnownConnections,
    where: str,
    sql_types: frozenset[str],
    exclude_tags: Sequence[str],
    only: Asset | None,
) -> PipelineResult:
    excluded = {asset.name for asset in pipeline.assets if set(asset.tags) & set(exclude_tags)}
    issues = validate_pipeline(pipeline, known, where)
    files = NearbyFiles()
    for asset in pipeline.assets:
        for reason in unsupported_reasons(asset, pipeline, sql_types, files):
            issues.append(Issue("error", asset.name or None, asset.definition_file, reason, UNSUPPORTED_RULE))
    issues.extend(_check_connection_issues(pipeline, known))
    issues.extend(_python_data_issues(pipeline, known))
    if only is not None:
        issues = [issue for issue in issues if issue.asset == only.name]
        return PipelineResult(pipeline, issues, 1)
    issues = [issue for issue in issues if issue.asset not in excluded]
    return PipelineResult(pipeline, issues, len(pipeline.assets) - len(excluded))


def _check_connection_issues(pipeline: Pipeline, known: KnownConnections) -> Iterator[Issue]:
    """The checks of an asset that is not a SQL asset (Python, R, ...) query its `connection:`, which must be a
    database pybruin runs SQL on (a SQL asset's connection is checked against its platform when it runs)."""
    for asset in pipeline.assets:
        if asset.type in SQL_ASSET_TYPES or not has_checks(asset) or not asset.connection:
            continue
        connection = known.get(asset.connection)
        if connection is not None and platform_for_connection(connection.type_key) is None:
            message = (
                f"connection '{connection.name}' is a {connection.type_key} connection, which cannot run the "
                "asset's quality checks"
            )
            yield Issue("error", asset.name or None, asset.definition_file, message, "check-connection")


def _python_data_issues(pipeline: Pipeline, known: KnownConnections) -> Iterator[Issue]:
    """A materializing Python asset whose `connection:` cannot hold its data, or not with its strategy (the
    same refusal as at run time)."""
    from pybruin.platforms.run import python_data_platform
    from pybruin.run.materialize import materializes

    for asset in pipeline.assets:
        connection = known.get(asset.connection) if materializes(asset) and asset.connection else None
        if connection is None:
            continue
        try:
            python_data_platform(connection, asset)
        except BruinError as exc:
            yield Issue("error", asset.name or None, asset.definition_file, str(exc), "python-materialization")


class StoreNames:
    """`name in store` for a secrets backend: answered by the store view's cached lookups."""

    def __init__(self, store: StoreView) -> None:
        self._store = store

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._store.get(name) is not None

    def get(self, name: str) -> Connection | None:
        resolved = self._store.get(name)
        return resolved.connection if resolved is not None else None


def _names(pipeline: Pipeline) -> list[str]:
    return [name for asset in pipeline.assets for name in asset_needs(asset, pipeline).names]


def _config_issues(project: Project) -> list[Issue]:
    """Warnings about the config file in git; none when the config came from BRUIN_CONFIG_FILE_CONTENT."""
    if project.environ.get(CONTENT_VARIABLE):
        return []
    from pybruin.config.exposure import exposure_warnings

    path = project.config.path
    return [Issue("warning", None, path, message, "config-file-exposure") for message in exposure_warnings(path)]


# -- the report as upstream prints it ------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("s" if count != 1 else "")


def render_pipelines(report: ValidationReport, relative_to: Path) -> str:
    """Each pipeline's block (`Pipeline: <name> (<dir>)`, then its issue tree or `No issues found`)."""
    lines: list[str] = []
    for result in report.results:
        lines.append("")
        directory = os.path.relpath(result.pipeline.directory, os.path.abspath(relative_to))
        lines.append(f"Pipeline: {result.pipeline.name} ({directory})")
        if not result.issues:
            lines.append("  No issues found")
            continue
        generic = [issue for issue in result.issues if issue.asset is None]
        lines.extend(_tree(generic, "    "))
        by_asset: dict[str, list[Issue]] = {}
        for issue in result.issues:
            if issue.asset is not None:
                by_asset.setdefault(issue.asset, []).append(issue)
        if generic and by_asset:
            lines.append("")
        for name, issues in by_asset.items():
            relative = os.path.relpath(issues[0].file, result.pipeline.directory)
            lines.append(f"  {name} ({relative})")
            lines.extend(_tree(issues, "    "))
            lines.append("")
    return "\n".join(lines)


def _tree(issues: Iterable[Issue], indent: str) -> list[str]:
    issues = list(issues)
    return [
        f"{indent}{'└──' if index == len(issues) - 1 else '├──'} {issue.message}"
        + (f" ({issue.rule})" if issue.rule else "")
        for index, issue in enumerate(issues)
    ]


def render_summary(report: ValidationReport, path_as_given: str) -> str:
    """The closing line tools grep: `✓ Successfully validated …` or `✘ Checked … and found …`."""
    pipelines = "pipeline" if len(report.results) == 1 else "pipelines"
    what = f"'{path_as_given}'" if report.asset is not None else f"{len(report.results)} {pipelines}"
    if not report.errors and not report.warnings:
        counted = "" if report.asset is not None else f"{report.assets} assets across "
        return f"✓ Successfully validated {counted}{what}, all good."
    found = []
    if report.errors:
        found.append(_plural(report.errors, "issue"))
    if report.warnings:
        found.append(_plural(report.warnings, "warning"))
    return f"✘ Checked {what} and found {' and '.join(found)}, please check above."


def config_lines(report: ValidationReport) -> list[str]:
    """pybruin's own warnings about the config file, one line each, before the pipelines."""
    return [f"! {issue.file}: {issue.message}" for issue in report.config_issues]


def json_document(report: ValidationReport) -> list:
    """The report as upstream's `validate -o json` array (pybruin's config warnings under `_pipeline`)."""
    from pybruin.documents.validation import IssueDocument, PipelineIssues

    documents = []
    for result in report.results:
        issues: dict[str, list[IssueDocument]] = {}
        for issue in [*report.config_issues, *result.issues]:
            key = issue.asset or "_pipeline"
            severity = "critical" if issue.severity == "error" else "warning"
            context = [str(issue.file)] if issue.asset is None and issue.rule == "config-file-exposure" else []
            issues.setdefault(key, []).append(IssueDocument(key, issue.message, context, severity))
        documents.append(PipelineIssues(result.pipeline.name, dict(sorted(issues.items()))))
    return documents
