"""`bruin secrets check` and `bruin secrets list`: where each secret the pipelines need comes from.

JSON shapes (``-o json``), one object per row:

* ``check``: ``{"pipeline", "asset", "key", "inject_as", "source", "status", "message"}``.
  ``inject_as`` is ``null`` for the connection an SQL asset runs on; ``source`` is the store that
  answered, or the backend that failed, ``null`` when nobody has the name; ``message``
  says why a row is not ``ok`` (``null`` when it is). A connection whose credentials are
  issued per run also has ``issued_by``: where they come from (``database/creds/etl``).
* ``list``: ``{"key", "status", "source", "shadowed", "assets"}``; ``shadowed`` lists the
  later backends of a chain that also hold the key; ``assets`` are the assets using it.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinGroup
from pybruin.cli.options import config_file_option, environment_option, output_option, path_argument
from pybruin.tables import plain_table

NONE = "-"


def _emit(text: str) -> None:
    click.echo(state().masker.mask(text))


@click.group("secrets", cls=BruinGroup)
def command() -> None:
    """Inspect the secrets pipelines need, without revealing any value."""


@command.command("check")
@path_argument
@environment_option
@config_file_option
@output_option
@global_options
def check(path: Path, environment: str | None, config_file: str | None, output_format: str) -> None:
    """Resolve every secret and SQL connection the assets under PATH need, running nothing. Exit 1 if any fails."""
    from pybruin.inspection.secret_refs import resolve_references

    app = state()
    report = resolve_references(
        app.project_settings(path, environment=environment, config_file=config_file), app.masker
    )
    refs, outcomes, failed = report.references, report.outcomes, report.failed
    if output_format == "json":
        rows = [
            {
                "pipeline": ref.pipeline,
                "asset": ref.asset,
                "key": ref.key,
                "inject_as": ref.inject_as,
                "source": outcomes[ref.key].source,
                "status": outcomes[ref.key].status,
                "message": outcomes[ref.key].message,
                **({"issued_by": outcomes[ref.key].issued_by} if outcomes[ref.key].issued_by else {}),
            }
            for ref in refs
        ]
        _emit(json.dumps(rows, indent=2))
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
        keys = [key for key in dict.fromkeys(ref.key for ref in refs) if outcomes[key].issued_by]
        issued = [f"• {key}: per-run credentials from {outcomes[key].issued_by}" for key in keys]
        problems = [f"✘ {key}: {outcomes[key].message}" for key in dict.fromkeys(ref.key for ref in failed)]
        verdict = (
            f"✘ {len(failed)} of {len(refs)} secrets do not resolve."
            if failed
            else f"✓ All {len(refs)} secrets resolve."
        )
        _emit("\n".join([table, "", *issued, *problems, verdict]))
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
    from pybruin.inspection.secret_refs import resolve_references

    app = state()
    report = resolve_references(
        app.project_settings(path, environment=environment, config_file=config_file), app.masker, with_shadows=True
    )
    users = report.users()
    if output_format == "json":
        rows = [
            {
                "key": key,
                "status": outcome.status,
                "source": outcome.source,
                "shadowed": report.shadowed[key],
                "assets": users[key],
            }
            for key, outcome in report.outcomes.items()
        ]
        _emit(json.dumps(rows, indent=2))
    elif not report.outcomes:
        click.echo("No secrets referenced.")
    else:
        rows = [
            (
                key,
                outcome.status,
                outcome.source or NONE,
                ", ".join(report.shadowed[key]) or NONE,
                ", ".join(users[key]),
            )
            for key, outcome in report.outcomes.items()
        ]
        _emit(plain_table(("KEY", "STATUS", "SOURCE", "SHADOWED", "USED BY"), rows))


@command.command("set", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("name")
@click.option(
    "--type",
    "type_key",
    default="generic",
    show_default=True,
    help="The connection type; for anything but generic, the value is the connection's fields as a JSON object.",
)
@config_file_option
@global_options
def set_command(name: str, type_key: str, config_file: str | None) -> None:
    """Store secret NAME in the OS keyring (--secrets-backend keyring), under this project's service.

    The value is read from a hidden prompt, or from stdin when it is not a terminal; never from the command line.
    """
    from pybruin.inspection.keyring_entries import set_entry

    if click.get_current_context().args:  # never quoted: it may well be the secret itself
        raise click.UsageError(
            "the value is never taken from the command line: type it at the prompt or pipe it on stdin"
        )
    app = state()
    service = set_entry(
        app.project_settings(Path.cwd(), environment=None, config_file=config_file),
        app.masker,
        name,
        type_key,
        _read_value(name, type_key),
    )
    click.echo(f"Stored secret '{name}' ({type_key}) in the OS keyring under service '{service}'")


@command.command("delete")
@click.argument("name")
@config_file_option
@global_options
def delete_command(name: str, config_file: str | None) -> None:
    """Delete secret NAME from the OS keyring, under this project's service."""
    from pybruin.inspection.keyring_entries import delete_entry

    app = state()
    service = delete_entry(app.project_settings(Path.cwd(), environment=None, config_file=config_file), name)
    click.echo(f"Deleted secret '{name}' from the OS keyring under service '{service}'")


def _read_value(name: str, type_key: str) -> str:
    """The secret's value: a hidden prompt on a terminal, else all of stdin without its final line end."""
    stdin = click.get_text_stream("stdin")
    if stdin.isatty():
        what = "Value" if type_key == "generic" else "Fields (a JSON object)"
        return click.prompt(f"{what} of {name}", hide_input=True, default="", show_default=False)
    text = stdin.read()
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
