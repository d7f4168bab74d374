"""``${NAME}`` references to environment variables inside ``.bruin.yml`` values.

Expansion happens in two stages, as in upstream Bruin: at load only the variables that are set
are substituted (so an unset one stays visible as ``${NAME}``), and when a connection is built the
rest become empty strings. Both stages work on parsed YAML values, never on the text, so a value
holding ``#``, ``:`` or quotes is inserted verbatim and cannot change the document's structure.
Each stage is a single pass: text that a variable inserts is never scanned again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from pybruin.config.yamlfiles import PlainScalar, resolve_plain

_REFERENCE = re.compile(r"\$\{([^}]+)\}")


def expand_set_variables(value: object, environ: Mapping[str, str], *, resolve_types: bool = False) -> object:
    """Stage 1: replace each ``${NAME}`` whose variable is set; leave the others literal.

    Recurses through dicts (values only, never keys) and lists. With ``resolve_types``, an unquoted
    scalar (:class:`PlainScalar`) and a string that was exactly one reference are typed as YAML 1.2
    would (:func:`resolve_plain`), so ``"${PORT}"`` with ``PORT=5432`` becomes the int 5432. That is for
    connections without a typed model, where nothing else would give the value its type.
    """

    def substitute(text: str) -> object:
        if resolve_types and isinstance(text, PlainScalar):
            return resolve_plain(text)
        expanded = _REFERENCE.sub(lambda match: environ.get(match[1], match[0]), text)
        if resolve_types and (whole := _REFERENCE.fullmatch(text)) and whole[1] in environ:
            return resolve_plain(expanded)
        return expanded

    return _map_strings(value, substitute)


def expand_unset_to_empty(value: object, environ: Mapping[str, str]) -> object:
    """Stage 2: replace every remaining ``${NAME}`` with the variable's value, or ``""`` if unset."""
    return _map_strings(value, lambda text: _REFERENCE.sub(lambda match: environ.get(match[1], ""), text))


def referenced_variables(value: object) -> set[str]:
    """The names of the variables ``value`` (a parsed YAML value, at any depth) refers to as ``${NAME}``."""
    names: set[str] = set()
    _map_strings(value, lambda text: names.update(_REFERENCE.findall(text)))
    return names


def _map_strings(value: object, convert: Callable[[str], object]) -> object:
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {key: _map_strings(item, convert) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, convert) for item in value]
    return value
