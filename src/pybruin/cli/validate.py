"""`bruin validate`: structural rules, that every secret and connection exists in the environment, and
warnings when the config file, which holds credentials, is tracked by git."""

from __future__ import annotations

from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.project import (
    PIPELINE_FILES,
    Project,
    config_file_option,
    environment_option,
    is_asset_path,
    load_target,
    open_connections,
    open_project,
)
from pybruin.config.bruin_yml import CONTENT_VARIABLE
from pybruin.config.exposure import exposure_warnings
from pybruin.errors import BruinError
from pybruin.pipeline.loader import find_pipeline_dirs, load_pipeline
from pybruin.pipeline.model import Pipeline
from pybruin.pipeline.validate import Issue, validate_pipeline
from pybruin.secrets.view import StoreView


def pipelines_under(path: Path) -> list[Pipeline]:
    if is_asset_path(path) or any((path / name).is_file() for name in PIPELINE_FILES) or path.name in PIPELINE_FILES:
        return [load_target(path)[0]]
    found = [load_pipeline(directory) for directory in find_pipeline_dirs(path)]
    if not found:
        raise BruinError(f"no pipelines found under '{path}'")
    return found


@click.command("validate")
@click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
@environment_option
@config_file_option
@global_options
def command(path: Path, environment: str | None, config_file: str | None) -> None:
    """Check pipelines and assets without running anything."""
    project = open_project(path, config_file=config_file, environment=environment)
    pipelines = pipelines_under(path)
    issues = _config_issues(project)
    backend_spec = state().secrets_backend
    if backend_spec:
        connections = open_connections(project, backend_spec)
        try:
            connections.prefetch(_names_needed(pipelines))
            store = f"secrets backend '{connections.store_name}'"
            for pipeline in pipelines:
                issues += validate_pipeline(pipeline, StoreNames(connections), store)
        finally:
            connections.close()
    else:
        store = f"environment '{project.environment.name}'"
        for pipeline in pipelines:
            issues += validate_pipeline(pipeline, project.environment.connections, store)
    for issue in issues:
        where = f"{issue.asset}" if issue.asset else str(issue.file)
        marker = "✘" if issue.severity == "error" else "!"
        click.echo(f"{marker} {where}: {issue.message}")
    errors = sum(issue.severity == "error" for issue in issues)
    assets = sum(len(p.assets) for p in pipelines)
    if errors:
        click.echo(f"✘ Checked {len(pipelines)} pipeline(s) and found {errors} issue(s).")
        raise click.exceptions.Exit(1)
    click.echo(f"✓ Successfully validated {assets} assets across {len(pipelines)} pipeline(s), all good.")


class StoreNames:
    """`name in store` for a secrets backend: answered by the run's own cached lookups (one read per name)."""

    def __init__(self, connections: StoreView) -> None:
        self._connections = connections

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._connections.get(name) is not None


def _names_needed(pipelines: list[Pipeline]) -> list[str]:
    names = [secret.key for pipeline in pipelines for asset in pipeline.assets for secret in asset.secrets]
    return names + [asset.connection for pipeline in pipelines for asset in pipeline.assets if asset.connection]


def _config_issues(project: Project) -> list[Issue]:
    """Warnings about the config file in git; none when the config came from BRUIN_CONFIG_FILE_CONTENT."""
    if project.environ.get(CONTENT_VARIABLE):
        return []
    path = project.config.path
    return [Issue("warning", None, path, message) for message in exposure_warnings(path)]
