"""Opening a project for a command: root, `.bruin.yml`, environment, and where connections come from."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from pybruin.cli.app import state
from pybruin.config.bruin_yml import BruinConfig, Environment, load_config
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError
from pybruin.pipeline.loader import load_pipeline, pipeline_dir_for_asset
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.run.injection import Resolved
from pybruin.secrets import (
    SECRET_VALUED_VARIABLES,
    ChainBackend,
    ConnectionCache,
    LocalBackend,
    SecretsBackend,
    describe_missing,
    open_backend,
)

PIPELINE_FILES = ("pipeline.yml", "pipeline.yaml")

environment_option = click.option(
    "-e", "--environment", "--env", "environment", help="The environment of .bruin.yml (default: its default one)."
)
config_file_option = click.option(
    "--config-file", envvar="BRUIN_CONFIG_FILE", help="Path to .bruin.yml (default: the project root's)."
)
LOCAL_SOURCE = ".bruin.yml"


@dataclass
class Project:
    root: Path
    config: BruinConfig
    environment: Environment
    environ: Mapping[str, str]


def open_project(path: Path, *, config_file: str | None, environment: str | None) -> Project:
    environ = dict(os.environ)
    root = find_project_root(path)
    config = load_config(root, Path(config_file) if config_file else None, environ)
    name = environment or config.default_environment
    if name not in config.environment_names:
        raise BruinError(
            f"Failed to use the environment '{name}': environment '{name}' not found in the configuration file"
        )
    return Project(root, config, config.environment(name), environ)


def is_asset_path(path: Path) -> bool:
    return path.is_file() and path.name not in PIPELINE_FILES


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


class BackendConnections:
    """The run's view of the connection store: cached, and labelled with where each answer came from."""

    def __init__(self, backend: SecretsBackend, project: Project) -> None:
        self.cache = ConnectionCache(backend)
        self.backend = backend
        self._project = project

    def get(self, name: str) -> Resolved | None:
        connection = self.cache.get(name)
        return Resolved(connection, self.source_of(name)) if connection is not None else None

    def source_of(self, name: str) -> str:
        """Who answers for ``name``: `.bruin.yml` or a backend's name (a chain's member that had it)."""
        backend_name = self.backend.name
        if isinstance(self.backend, ChainBackend):
            backend_name = self.backend.answered_by(name) or backend_name
        return label(backend_name)

    def prefetch(self, names: Iterable[str]) -> None:
        self.cache.prefetch(names)

    def missing_message(self, name: str) -> str:
        return describe_missing(name, self.backend.name, self._project.config.path, self._project.environment.name)

    def close(self) -> None:
        self.backend.close()


def label(backend_name: str) -> str:
    """How a backend is named to users: the local store is the file it reads."""
    return LOCAL_SOURCE if backend_name == LocalBackend.name else backend_name


def open_connections(project: Project, backend_spec: str | None) -> BackendConnections:
    """Open ``backend_spec``; a chain falls past a failing backend only under ``--secrets-fallback-on-error``.

    pybruin's own credentials for its stores are masked from here on, like every connection's secrets.
    """
    app = state()
    for name in SECRET_VALUED_VARIABLES:
        app.masker.add(project.environ.get(name, ""))
    backend = open_backend(
        backend_spec,
        project.environment,
        project.config.path,
        project.environ,
        fallback_on_error=app.secrets_fallback_on_error,
    )
    for name in backend.auth_variables:
        app.masker.add(project.environ.get(name, ""))
    return BackendConnections(backend, project)
