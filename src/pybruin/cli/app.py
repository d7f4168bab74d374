"""The root `bruin` group, its global options, and the one place errors become exit codes."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pybruin import __version__
from pybruin.cli.flags import BruinGroup, NoHelpTopic
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.records import Record, field

if TYPE_CHECKING:
    from pathlib import Path

    from pybruin.workspace import ProjectSettings

F = TypeVar("F", bound=Callable[..., Any])


class AppState(Record, frozen=False):
    """What every command shares: the global flags and the masker for whatever it prints."""

    secrets_backend: str | None = None
    secrets_fallback_on_error: bool = False
    debug: bool = False
    #: Whether the command was asked for JSON (`-o json`): its errors are then `{"error": ...}` on stdout.
    json_output: bool = False
    masker: Masker = field(default_factory=Masker)

    def project_settings(self, path: Path, *, environment: str | None, config_file: str | None) -> ProjectSettings:
        """The global flags and a command's own, as the settings every command opens its project with."""
        from pybruin.workspace import ProjectSettings

        return ProjectSettings(
            path=path,
            environment=environment,
            config_file=config_file,
            secrets_backend=self.secrets_backend,
            secrets_fallback_on_error=self.secrets_fallback_on_error,
        )


def state() -> AppState:
    return click.get_current_context().ensure_object(AppState)


def _remember_backend(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value.strip():
        ctx.ensure_object(AppState).secrets_backend = value.strip()
    return value


def _remember_fallback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(AppState).secrets_fallback_on_error = True
    return value


def _remember_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(AppState).debug = True
        logging.getLogger("pybruin").setLevel(logging.DEBUG)
    return value


class MaskedStderrHandler(logging.Handler):
    """Log records (ours and libraries') and Python warnings reach stderr masked, like everything else."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self._masker = masker
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        sys.stderr.write(self._masker.mask(text) + "\n")
        sys.stderr.flush()


def route_logging(masker: Masker) -> None:
    root = logging.getLogger()
    root.handlers = [MaskedStderrHandler(masker)]
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)


def global_options(command: F) -> F:
    """`--secrets-backend`, `--secrets-fallback-on-error` and `--debug`, accepted before or after the subcommand."""
    command = click.option(
        "--secrets-backend",
        envvar="BRUIN_SECRETS_BACKEND",
        expose_value=False,
        callback=_remember_backend,
        help="The source of secrets if different from .bruin.yml: vault, doppler, aws, azure, gcp or keyring; "
        "or several, asked in order, such as vault,aws (local means .bruin.yml).",
    )(command)
    command = click.option(
        "--secrets-fallback-on-error",
        envvar="BRUIN_SECRETS_FALLBACK_ON_ERROR",
        is_flag=True,
        expose_value=False,
        callback=_remember_fallback,
        help="In a backend chain, try the next backend when one is unreachable or denies access.",
    )(command)
    return click.option(
        "--debug", is_flag=True, expose_value=False, callback=_remember_debug, help="Show tracebacks on errors."
    )(command)


class LazyCommands(BruinGroup):
    """Imports a command's module only when that command runs (or help lists it), keeping start-up lean."""

    COMMANDS = {
        "airflow-task": "pybruin.cli.airflow_task",
        "connections": "pybruin.cli.connections",
        "environments": "pybruin.cli.environments",
        "init": "pybruin.cli.init",
        "internal": "pybruin.cli.internal",
        "lineage": "pybruin.cli.lineage",
        "query": "pybruin.cli.query",
        "render": "pybruin.cli.render",
        "render-ddl": "pybruin.cli.render_ddl",
        "run": "pybruin.cli.run",
        "secrets": "pybruin.cli.secrets",
        "validate": "pybruin.cli.validate",
        "version": "pybruin.cli.version",
    }
    #: Kept out of `bruin --help`, as upstream hides them.
    HIDDEN = frozenset({"airflow-task", "internal"})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.COMMANDS.keys() - self.HIDDEN)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.COMMANDS.get(cmd_name)
        if module is None:
            return None
        from importlib import import_module

        return import_module(module).command


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-v", "--version", message="bruin %(version)s (pybruin)")
@global_options
def cli() -> None:
    """pybruin: run Bruin pipelines, injecting each asset exactly the secrets it declared."""


class Terminated(BaseException):
    """SIGTERM arrived: like Ctrl-C, it unwinds the command so that it can end everything it started."""


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated


def run_cli(args: Sequence[str]) -> int:
    """Run the CLI and turn every failure into one masked line on stderr and a non-zero exit code."""
    app = AppState()
    route_logging(app.masker)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        code = cli.main(args=list(args), prog_name="bruin", standalone_mode=False, obj=app)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        return 130
    except Terminated:
        click.echo("Terminated.", err=True)
        return 128 + signal.SIGTERM
    except NoHelpTopic as exc:
        click.echo(exc.message, err=True)
        return exc.exit_code
    except click.UsageError as exc:
        # One line, as upstream words it; the extension looks for "Incorrect" (and the flag message).
        click.echo(app.masker.mask(f"Incorrect Usage: {_first_line(exc.format_message())}"), err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except BruinError as exc:
        _report(app, str(exc), exc)
        return 1
    except Exception as exc:
        _report(app, f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)", exc)
        return 1
    return code if isinstance(code, int) else 0


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def _report(app: AppState, message: str, exc: BaseException) -> None:
    if app.debug:
        sys.stderr.write(app.masker.mask("".join(traceback.format_exception(exc))))
    if app.json_output:
        # The extension reads stdout when stderr is empty: an error document there, and nothing on stderr.
        from pybruin.documents.encoding import encode
        from pybruin.documents.messages import ErrorDocument

        sys.stdout.write(encode(ErrorDocument(app.masker.mask(message))) + "\n")
        sys.stdout.flush()
        return
    sys.stderr.write(app.masker.mask(message) + "\n")
    sys.stderr.flush()
