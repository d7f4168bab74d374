"""Jinja rendering of SQL text: asset bodies, hooks, custom checks, interval-modifier templates.

Secrets never enter a SQL template: a rendered query ends up in database logs, query history and
error messages, none of which we can mask. So the context holds only the run's dates, ids and
variables, and a template that reaches for a secret fails with a message that points to the right
tool instead of the generic "undefined" error. Templates render in Jinja's sandbox, which keeps
them away from Python internals (and through those, from the process environment).

Rendering follows upstream (gonja with strict undefined names): no whitespace trimming, the trailing
newline kept, upstream's filters (`pybruin.run.filters`) and, when the pipeline has a `macros/` folder,
its files' text put before every template, so their macros need no import. Text without template syntax
is returned as it is without Jinja, and compiled templates are cached, so a run compiles each text once.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.records import Record

if TYPE_CHECKING:
    from jinja2 import Template

_SECRET_ACCESSORS = frozenset({"secrets", "secret", "env_var", "env"})
_SYNTAX = ("{{", "{%", "{#")


class TemplateError(BruinError):
    """A template that does not render: `asset '<name>': <detail>`."""

    def __init__(self, asset_name: str, detail: str) -> None:
        super().__init__(f"asset '{asset_name}': {detail}")
        self.detail = detail


class Macros(Record):
    """The pipeline's `macros/*.sql` files, concatenated in name order, each followed by a newline."""

    text: str = ""
    #: (file name, number of lines it takes in `text`), in order, to name the file of an error
    files: tuple[tuple[str, int], ...] = ()

    @property
    def lines(self) -> int:
        """How many lines the macros add before a template's first line."""
        return self.text.count("\n") + 1 if self.text else 0

    def locate(self, line: int) -> tuple[str, int]:
        """The macro file and line of a line of the combined template."""
        for name, count in self.files:
            if line <= count:
                return name, line
            line -= count
        return "macros", line


def load_macros(pipeline_directory: Path) -> Macros:
    """`<pipeline>/macros/*.sql` (not its subfolders); no folder means no macros."""
    folder = pipeline_directory / "macros"
    if not folder.is_dir():
        return Macros()
    texts, files = [], []
    try:
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if path.name.endswith(".sql") and path.is_file():
                text = path.read_text(encoding="utf-8") + "\n"
                texts.append(text)
                files.append((f"macros/{path.name}", text.count("\n")))
    except (OSError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror or type(exc).__name__
        raise BruinError(f"Failed to load macros from {folder}: {reason}") from None
    return Macros("".join(texts), tuple(files))


NO_MACROS = Macros()


def has_template_syntax(text: str) -> bool:
    return any(marker in text for marker in _SYNTAX)


def render_sql(
    sql: str,
    context: Mapping[str, object],
    *,
    asset_name: str,
    secret_names: Container[str] = (),
    macros: Macros = NO_MACROS,
) -> str:
    """Render `sql` with `context`; undefined names are errors, secrets are refused by name."""
    if not macros.text and not has_template_syntax(sql):
        return sql
    source = macros.text + "\n" + sql if macros.text else sql
    compiled = _compile(source)
    if isinstance(compiled, _SyntaxProblem):
        raise _template_error(asset_name, compiled.line, compiled.message, macros) from None
    template, undeclared = compiled
    for name in undeclared:
        if name not in context and (name in _SECRET_ACCESSORS or name in secret_names):
            raise TemplateError(
                asset_name,
                f"secrets are not available in SQL templates ('{name}'); use a Python asset or the asset's connection",
            )
    try:
        rendered = template.render(context)
    except Exception as exc:  # a template can raise anything its expressions raise
        raise _template_error(asset_name, _template_line(exc.__traceback__), str(exc), macros) from None
    return _cut_blank_runs(rendered) if macros.text else rendered


class _SyntaxProblem(Record):
    line: int | None
    message: str


@functools.lru_cache(maxsize=4096)
def _compile(source: str) -> tuple[Template, tuple[str, ...]] | _SyntaxProblem:
    """The compiled template and the names it reads from its context, or why it does not parse."""
    import jinja2
    from jinja2 import meta

    environment = _environment()
    try:
        tree = environment.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return _SyntaxProblem(exc.lineno, exc.message or str(exc))
    undeclared = tuple(sorted(meta.find_undeclared_variables(tree)))
    return environment.from_string(tree), undeclared


@functools.cache
def _environment() -> Any:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from pybruin.run.filters import FILTERS

    environment = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    environment.filters.update(FILTERS)
    return environment


def _cut_blank_runs(text: str) -> str:
    """Upstream's clean-up when macros were loaded: at most two blank lines in a row."""
    kept, blank = [], 0
    for line in text.split("\n"):
        blank = blank + 1 if not line.strip() else 0
        if blank <= 2:
            kept.append(line)
    return "\n".join(kept)


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line of the innermost template frame (Jinja rewrites tracebacks to point there)."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _template_error(asset_name: str, line: int | None, message: str, macros: Macros) -> TemplateError:
    first_line = message.strip().splitlines()[0] if message.strip() else "invalid template"
    line = line or 1
    if line <= macros.lines - 1:
        where, in_file = macros.locate(line)
        return TemplateError(asset_name, f"template error in {where} at line {in_file}: {first_line}")
    return TemplateError(asset_name, f"template error at line {max(line - macros.lines, 1)}: {first_line}")
