"""`bruin validate` without click: structural rules, features pybruin cannot run yet, every name each asset
needs checked against the selected store, and warnings when the config file is tracked by git."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pybruin.config.bruin_yml import CONTENT_VARIABLE
from pybruin.config.exposure import exposure_warnings
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.pipeline.checks import has_checks
from pybruin.pipeline.model import Pipeline
from pybruin.pipeline.needs import asset_needs
from pybruin.pipeline.validate import Issue, validate_pipeline
from pybruin.plan.unsupported import unsupported_reasons
from pybruin.platforms import RUNNABLE_ASSET_TYPES, SQL_ASSET_TYPES, platform_for_connection
from pybruin.secrets.view import StoreView
from pybruin.workspace import Project, ProjectSettings, open_project, open_store, pipelines_under

if TYPE_CHECKING:
    from pybruin.config.connections import Connection


class KnownConnections(Protocol):
    """The connections of the selected store: `name in known`, and the connection itself."""

    def __contains__(self, name: object) -> bool: ...

    def get(self, name: str) -> Connection | None: ...


@dataclass(frozen=True)
class ValidationReport:
    pipelines: list[Pipeline]
    issues: list[Issue]

    @property
    def errors(self) -> int:
        return sum(issue.severity == "error" for issue in self.issues)

    @property
    def assets(self) -> int:
        return sum(len(pipeline.assets) for pipeline in self.pipelines)


def validate_project(settings: ProjectSettings, masker: Masker) -> ValidationReport:
    """Every issue found under `settings.path`. Names are checked in `.bruin.yml`'s environment, or in the
    secrets backend when one is selected (each name read once)."""
    project = open_project(settings)
    pipelines = pipelines_under(settings.path)
    issues = _config_issues(project)
    sql_types = RUNNABLE_ASSET_TYPES
    if settings.secrets_backend:
        with open_store(project, settings, masker) as store:
            store.prefetch(name for pipeline in pipelines for name in _names(pipeline))
            known: KnownConnections = StoreNames(store)
            where = f"secrets backend '{store.store_name}'"
            for pipeline in pipelines:
                issues += _pipeline_issues(pipeline, known, where, sql_types)
    else:
        where = f"environment '{project.environment.name}'"
        for pipeline in pipelines:
            issues += _pipeline_issues(pipeline, project.environment.connections, where, sql_types)
    return ValidationReport(pipelines, issues)


def _pipeline_issues(
    pipeline: Pipeline, known: KnownConnections, where: str, sql_types: frozenset[str]
) -> list[Issue]:
    issues = validate_pipeline(pipeline, known, where)
    for asset in pipeline.assets:
        for reason in unsupported_reasons(asset, pipeline, sql_types):
            issues.append(Issue("error", asset.name or None, asset.definition_file, reason))
    issues.extend(_check_connection_issues(pipeline, known))
    issues.extend(_python_data_issues(pipeline, known))
    return issues


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
            yield Issue("error", asset.name or None, asset.definition_file, message)


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
            yield Issue("error", asset.name or None, asset.definition_file, str(exc))


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
    path = project.config.path
    return [Issue("warning", None, path, message) for message in exposure_warnings(path)]
