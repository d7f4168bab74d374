"""How pybruin reads YAML: ``.bruin.yml`` scalars typed by the field they fill, and errors that quote nothing.

Bruin decodes ``.bruin.yml`` into typed structs, so an unquoted ``007`` is the text "007" in a string field
and the number 7 in an integer field. PyYAML decides on its own, by YAML 1.1 rules: ``007`` is octal 7,
``1.50`` is 1.5, ``12:30`` is 750, ``yes`` is true and ``2024-01-01`` a date, which would silently change
a password. So unquoted booleans, numbers and dates load as :class:`PlainScalar`, their text as written,
and what knows the field decides: typed connection models parse the text, untyped ones call
:func:`resolve_plain`.
"""

from __future__ import annotations

import re

from pybruin.pyyaml import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
# PyYAML quotes single characters and token kinds ('<scalar>') in its problem statements, but also tags,
# anchors and aliases: text of the document, possibly a credential written without quotes. (As text: `re`
# compiles them for the first error only.)
_QUOTED = r"""'[^']*'|"[^"]*\""""
_HARMLESS_QUOTE = r"""(['"])(?:.|\\.|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\U[0-9a-f]{8})\1|'<[a-z ]+>'"""


#: A document may stand for at most this many values once its aliases are expanded (and at most ten times
#: the nodes it is written with): a few hundred bytes of nested anchors can otherwise stand for billions.
MAX_EXPANDED_NODES = 100_000


class BoundedAliases:
    """A loader mixin that refuses alias bombs and recursive aliases before anything is built from them."""

    def construct_document(self, node: yaml.Node) -> object:
        check_aliasing(node)
        return super().construct_document(node)  # type: ignore[misc]


def check_aliasing(root: yaml.Node) -> None:
    """Raise a YAML error when `root`'s aliases expand too far or refer to a node that contains them."""
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in expanded:
            return expanded[key]
        if key in open_nodes:
            raise yaml.constructor.ConstructorError(None, None, "document contains a recursive alias", node.start_mark)
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key_node) + size(value) for key_node, value in node.value)
        open_nodes.discard(key)
        expanded[key] = total
        if total > MAX_EXPANDED_NODES and total > 10 * len(expanded):
            raise yaml.constructor.ConstructorError(
                None, None, "document contains excessive aliasing", root.start_mark
            )
        return total

    size(root)


class PlainScalar(str):
    """An unquoted scalar that YAML 1.1 would read as a boolean, a number or a date, kept as written."""

    __slots__ = ()


class _ConfigLoader(BoundedAliases, _BaseLoader):
    """The safe loader, keeping booleans, numbers and dates as :class:`PlainScalar` text."""


for _tag in ("bool", "int", "float", "timestamp"):
    _ConfigLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}", lambda loader, node: PlainScalar(loader.construct_scalar(node))
    )


def load_config_yaml(text: str) -> object:
    """Parse ``.bruin.yml`` text; raises ``yaml.YAMLError`` (report it with :func:`yaml_error`)."""
    return yaml.load(text, Loader=_ConfigLoader)


def resolve_plain(text: str) -> object:
    """``text`` as a YAML 1.2 boolean, or as a number that prints back exactly as written; else the text.

    ``true``, ``5432`` and ``1.5`` become values; ``yes``, ``007`` and ``1.50`` stay text, so a value
    that only looks like a number reaches its user unchanged.
    """
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text) and repr(number := float(text)) == text:
        return number
    return str(text)


def yaml_error(exc: yaml.YAMLError) -> tuple[int | None, str | None]:
    """The 1-based line and the problem statement of a YAML error, neither quoting the document."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return None, None
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context
    if problem is not None:
        problem = re.sub(_QUOTED, _unless_harmless, problem)
    return (mark.line + 1 if mark is not None else None), problem


def _unless_harmless(quoted: re.Match[str]) -> str:
    return quoted[0] if re.fullmatch(_HARMLESS_QUOTE, quoted[0]) else "(not shown)"
