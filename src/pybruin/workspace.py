"""Opening a project for any command: its root, `.bruin.yml`, the selected environment, its pipelines and the
connection store — everything a command needs before it does its own work, and nothing about click.

The CLI, the run session and (later) the tooling commands and the Airflow integration all start here, so a
project opens the same way whoever asks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from pybruin.config.bruin_yml import BruinConfig, Environment, load_config
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.pipeline.loader import PIPELINE_FILE_NAMES, find_pipeline_dirs, load_pipeline, pipeline_dir_for_asset
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.records import Record, field
from pybruin.secrets.registry import credential_values, open_backend
from pybruin.secrets.view import StoreView


class ProjectSettings(Record):
    """Where the project is, which environment and config file, which store to ask, and the variables
    `${VAR}` placeholders and stores read (the process environment unless given)."""

    path: Path = Path(".")
    environment: str | None = None
    config_file: str | None = None
    secrets_backend: str | None = None
    secrets_fallback_on_error: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class Project(Record):
    """An opened project: its root, its `.bruin.yml`, the selected environment and the process environment."""

    root: Path
    config: BruinConfig
    environment: Environment
    environ: Mapping[str, str]

    def with_environment(self, name: str) -> Project:
        return Project(self.root, self.config, self.config.environment(name), self.environ)


def open_project(settings: ProjectSettings) -> Project:
    """The project holding `settings.path`, with the named environment (default: the config's) built."""
    environ = dict(settings.environ)
    root = find_project_root(settings.path)
    config = load_config(root, Path(settings.config_file) if settings.config_file else None, environ)
    name = settings.environment or config.default_environment
    if name not in config.environment_names:
        raise BruinError(
            f"Failed to use the environment '{name}': environment '{name}' not found in the configuration file"
        )
    return Project(root, config, config.environment(name), environ)


def is_asset_path(path: Path) -> bool:
    return path.is_file() and path.name not in PIPELINE_FILE_NAMES


def load_target(path: Path) -> tuple[Pipeline, Asset | None]:
    """The pipeline a path points into, and the asset when the path is an asset file."""
    if not is_asset_path(path):
        return load_pipeline(path), None
    pipeline = load_pipeline(pipeline_dir_for_asset(path))
    target = path.resolve()
    for asset in pipeline.assets:
        if target in (asset.definition_file.resolve(), asset.executable_file.resolve()):
            return pipeline, asset
    raise BruinError(f"'{path}' is not an asset of pipeline '{pipeline.name}': it has no @bruin header")


def pipelines_under(path: Path) -> list[Pipeline]:
    """Every pipeline a command given `path` covers: the one it points into, or all below a folder."""
    if (
        is_asset_path(path)
        or path.name in PIPELINE_FILE_NAMES
        or any((path / name).is_file() for name in PIPELINE_FILE_NAMES)
    ):
        return [load_target(path)[0]]
    found = [load_pipeline(directory) for directory in find_pipeline_dirs(path)]
    if not found:
        raise BruinError(f"no pipelines found under '{path}'")
    return found


def protect_environment(project: Project, masker: Masker) -> None:
    """Mask every sensitive value of every connection of the selected environment, as upstream does."""
    for connection in project.environment.connections.values():
        masker.protect_connection(connection)


@contextlib.contextmanager
def open_store(project: Project, settings: ProjectSettings, masker: Masker) -> Iterator[StoreView]:
    """The connection store the settings name (`.bruin.yml` by default), closed when the block ends.

    pybruin's own credentials for its stores are masked from here on (the secret-valued settings before
    opening, in case a store's error quotes one), like every connection's secrets.
    """
    for value in credential_values(project.environ):
        masker.protect(value)
    backend = open_backend(
        settings.secrets_backend,
        project.environment,
        project.config.path,
        project.environ,
        fallback_on_error=settings.secrets_fallback_on_error,
    )
    view = StoreView(
        backend, config_path=project.config.path, environment_name=project.environment.name, environ=project.environ
    )
    for value in view.credential_values():
        masker.protect(value)
    try:
        yield view
    finally:
        view.close()
