"""`bruin secrets check` and `bruin secrets list`: where each secret the pipelines need comes from.

Both resolve names through the same store a run would use (``--secrets-backend``,
chains included) and print names, assets and sources only — never a value.

JSON shapes (``-o json``), one object per row:

* ``check``: ``{"pipeline", "asset", "key", "inject_as", "source", "status", "message"}``.
  ``inject_as`` is ``null`` for an SQL asset's connection; ``source`` is the store that
  answered, or the backend that failed, ``null`` when nobody has the name; ``message``
  says why a row is not ``ok`` (``null`` when it is).
* ``list``: ``{"key", "status", "source", "shadowed", "assets"}``; ``shadowed`` lists the
  later backends of a chain that also hold the key; ``assets`` are the assets using it.

``status`` is one of ``ok``, ``missing``, ``denied``, ``unreachable``, ``malformed``,
``wrong type`` and ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from pybruin.cli.app import AppState, global_options, state
from pybruin.cli.project import config_file_option, environment_option, open_connections, open_project
from pybruin.cli.validate import pipelines_under
from pybruin.pipeline.model import Pipeline
from pybruin.run.runner import sql_connection_name
from pybruin.run.sql import SQL_ASSET_PLATFORMS
from pybruin.secrets.base import BackendError
from pybruin.secrets.view import StoreView
from pybruin.tables import plain_table

STATUS_BY_KIND = {
    "denied": "denied",
    "unreachable": "unreachable",
    "malformed": "malformed",
    "wrong_type": "wrong type",
    "error": "error",
}
NONE = "-"


@dataclass(frozen=True)
class Reference:
    """One name an asset needs: a declared secret, or (``inject_as`` None) an SQL asset's connection."""

    pipeline: str
    asset: str
    key: str
    inject_as: str | None


@dataclass(frozen=True)
class Outcome:
    """How a name resolved; ``source`` is who answered or who failed, ``message`` why it is not ok."""

    status: str
    source: str | None = None
    message: str | None = None


def references(pipelines: Sequence[Pipeline]) -> Iterator[Reference]:
    """Every name each asset needs, in pipeline order: an SQL asset's connection, then its secrets.

    Secrets are taken after the merge with pipeline defaults and the asset's own `connection:`,
    which an SQL asset uses as its connection rather than receiving it as a variable.
    """
    for pipeline in pipelines:
        for asset in pipeline.assets:
            sql_connection = sql_connection_name(asset, pipeline) if asset.type in SQL_ASSET_PLATFORMS else None
            if sql_connection:
                yield Reference(pipeline.name, asset.name, sql_connection, None)
            for mapping in asset.secrets:
                if mapping.key != sql_connection:
                    yield Reference(pipeline.name, asset.name, mapping.key, mapping.inject_as)


def resolve(connections: StoreView, key: str, app: AppState) -> Outcome:
    """Look ``key`` up as a run would, registering what it finds with the masker that filters all output."""
    try:
        resolved = connections.get(key)
    except BackendError as err:
        return Outcome(STATUS_BY_KIND[err.kind], connections.failure_source(err), str(err))
    if resolved is None:
        return Outcome("missing", None, connections.missing_message(key))
    app.masker.add_connection(resolved.connection)
    return Outcome("ok", resolved.source)


def _resolve_all(
    path: Path, environment: str | None, config_file: str | None
) -> tuple[list[Reference], dict[str, Outcome], StoreView]:
    """The references under ``path`` and each distinct name's outcome, each read once.

    The connections are returned open, so ``list`` can still ask a chain about shadows; the caller closes them.
    """
    app = state()
    project = open_project(path, config_file=config_file, environment=environment)
    for connection in project.environment.connections.values():
        app.masker.add_connection(connection)
    refs = list(references(pipelines_under(path)))
    names = list(dict.fromkeys(ref.key for ref in refs))
    connections = open_connections(project, app.secrets_backend)
    try:
        connections.prefetch(names)
        outcomes = {name: resolve(connections, name, app) for name in names}
    except BaseException:
        connections.close()
        raise
    return refs, outcomes, connections


def _emit(text: str) -> None:
    click.echo(state().masker.mask(text))


@click.group("secrets")
def command() -> None:
    """Inspect the secrets pipelines need, without revealing any value."""


path_argument = click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
output_option = click.option("-o", "--output", "output_format", type=click.Choice(["plain", "json"]), default="plain")


@command.command("check")
@path_argument
@environment_option
@config_file_option
@output_option
@global_options
def check(path: Path, environment: str | None, config_file: str | None, output_format: str) -> None:
    """Resolve every secret and SQL connection the assets under PATH need, running nothing. Exit 1 if any fails."""
    refs, outcomes, connections = _resolve_all(path, environment, config_file)
    connections.close()
    failed = [ref for ref in refs if outcomes[ref.key].status != "ok"]
    if output_format == "json":
        _emit(
            json.dumps(
                [
                    {
                        "pipeline": ref.pipeline,
                        "asset": ref.asset,
                        "key": ref.key,
                        "inject_as": ref.inject_as,
                        "source": outcomes[ref.key].source,
                        "status": outcomes[ref.key].status,
                        "message": outcomes[ref.key].message,
                    }
                    for ref in refs
                ],
                indent=2,
            )
        )
    elif not refs:
        click.echo("No secrets referenced.")
    else:
        table = plain_table(
            ("ASSET", "KEY", "INJECT AS", "SOURCE", "STATUS"),
            [
                (ref.asset, ref.key, ref.inject_as or NONE, outcomes[ref.key].source or NONE, outcomes[ref.key].status)
                for ref in refs
            ],
        )
        problems = [f"✘ {key}: {outcomes[key].message}" for key in dict.fromkeys(ref.key for ref in failed)]
        verdict = (
            f"✘ {len(failed)} of {len(refs)} secrets do not resolve."
            if failed
            else f"✓ All {len(refs)} secrets resolve."
        )
        _emit("\n".join([table, "", *problems, verdict]))
    if failed:
        raise click.exceptions.Exit(1)


@command.command("list")
@path_argument
@environment_option
@config_file_option
@output_option
@global_options
def list_secrets(path: Path, environment: str | None, config_file: str | None, output_format: str) -> None:
    """Every secret the pipelines under PATH use, the assets using it, and where it resolves."""
    refs, outcomes, connections = _resolve_all(path, environment, config_file)
    try:
        shadowed = {
            key: connections.shadowed(key) if outcome.status == "ok" else [] for key, outcome in outcomes.items()
        }
    finally:
        connections.close()
    users: dict[str, list[str]] = {key: [] for key in outcomes}
    for ref in refs:
        if ref.asset not in users[ref.key]:
            users[ref.key].append(ref.asset)
    if output_format == "json":
        _emit(
            json.dumps(
                [
                    {
                        "key": key,
                        "status": outcome.status,
                        "source": outcome.source,
                        "shadowed": shadowed[key],
                        "assets": users[key],
                    }
                    for key, outcome in outcomes.items()
                ],
                indent=2,
            )
        )
    elif not outcomes:
        click.echo("No secrets referenced.")
    else:
        _emit(
            plain_table(
                ("KEY", "STATUS", "SOURCE", "SHADOWED", "USED BY"),
                [
                    (
                        key,
                        outcome.status,
                        outcome.source or NONE,
                        ", ".join(shadowed[key]) or NONE,
                        ", ".join(users[key]),
                    )
                    for key, outcome in outcomes.items()
                ],
            )
        )
