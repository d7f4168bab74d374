"""Opening a project for a command: root, `.bruin.yml`, environment, and where connections come from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from pybruin.cli.app import state
from pybruin.config.bruin_yml import BruinConfig, Environment, load_config
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError
from pybruin.pipeline.loader import load_pipeline, pipeline_dir_for_asset
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.secrets.registry import credential_values, open_backend
from pybruin.secrets.view import StoreView

PIPELINE_FILES = ("pipeline.yml", "pipeline.yaml")

environment_option = click.option(
    "-e", "--environment", "--env", "environment", help="The environment of .bruin.yml (default: its default one)."
)
config_file_option = click.option(
    "--config-file", envvar="BRUIN_CONFIG_FILE", help="Path to .bruin.yml (default: the project root's)."
)


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


def open_connections(project: Project, backend_spec: str | None) -> StoreView:
    """Open ``backend_spec``; a chain falls past a failing backend only under ``--secrets-fallback-on-error``.

    pybruin's own credentials for its stores are masked from here on (the secret-valued settings
    before opening, in case a store's error quotes one), like every connection's secrets.
    """
    app = state()
    for value in credential_values(project.environ):
        app.masker.add(value)
    backend = open_backend(
        backend_spec,
        project.environment,
        project.config.path,
        project.environ,
        fallback_on_error=app.secrets_fallback_on_error,
    )
    connections = StoreView(
        backend,
        config_path=project.config.path,
        environment_name=project.environment.name,
        environ=project.environ,
    )
    for value in connections.credential_values():
        app.masker.add(value)
    return connections
