"""Jinja rendering of SQL asset bodies.

Secrets never enter a SQL template: a rendered query ends up in database logs, query history and
error messages, none of which we can mask. So the context holds only the run's dates, ids and
variables, and a template that reaches for a secret fails with a message that points to the right
tool instead of the generic "undefined" error. Templates render in Jinja's sandbox, which keeps
them away from Python internals (and through those, from the process environment).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from types import TracebackType

from pybruin.errors import BruinError

_SECRET_ACCESSORS = frozenset({"secrets", "secret", "env_var", "env"})


def render_sql(sql: str, context: Mapping[str, object], *, asset_name: str, secret_names: Container[str] = ()) -> str:
    """Render `sql` with `context`; undefined names are errors, secrets are refused by name."""
    import jinja2
    from jinja2 import meta, nodes
    from jinja2.sandbox import SandboxedEnvironment

    environment = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        tree = environment.parse(sql)
    except jinja2.TemplateSyntaxError as exc:
        raise _template_error(asset_name, exc.lineno, exc.message or str(exc)) from None

    undeclared = meta.find_undeclared_variables(tree) - context.keys()
    for name_node in tree.find_all(nodes.Name):
        name = name_node.name
        if name in undeclared and (name in _SECRET_ACCESSORS or name in secret_names):
            raise BruinError(
                f"asset '{asset_name}': secrets are not available in SQL templates ('{name}'); "
                "use a Python asset or the asset's connection"
            )

    try:
        return environment.from_string(tree).render(context)
    except Exception as exc:  # a template can raise anything its expressions raise
        raise _template_error(asset_name, _template_line(exc.__traceback__), str(exc)) from None


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line of the innermost template frame (Jinja rewrites tracebacks to point there)."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _template_error(asset_name: str, line: int | None, message: str) -> BruinError:
    first_line = message.strip().splitlines()[0] if message.strip() else "invalid template"
    return BruinError(f"asset '{asset_name}': template error at line {line or 1}: {first_line}")
