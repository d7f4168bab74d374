"""Dataclass documents to JSON text the way upstream's Go encoder writes it.

Go's `encoding/json` writes struct fields in declaration order under their JSON names, drops `omitempty`
fields holding a zero value, prints integral floats without a fraction (`699`, not `699.0`) and escapes
`<`, `>`, `&`, U+2028 and U+2029. Consumers parse the JSON, so only the shape is a contract; matching the
text as well lets upstream's own expectations be compared byte for byte where they are byte-exact.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from typing import Any

_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def document(cls: type) -> type:
    """Declare a document: a dataclass with only the `__init__` a document needs.

    Dataclasses compile each generated method at import; equality, hashing, `repr` and frozen attributes
    would triple that, and `bruin internal parse-pipeline` imports every document on each call.
    """
    return dataclasses.dataclass(cls, repr=False, eq=False, match_args=False)


def json_field(
    name: str | None = None,
    *,
    omit_empty: bool = False,
    omit_none: bool = False,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A document field: `name` is its JSON key (default: the attribute name); `omit_empty` drops it
    when it holds an empty value (`None`, `""`, `0`, `False`, `[]`, `{}`), as Go's `omitempty` does;
    `omit_none` only when it is None (Go's `omitempty` on a pointer: a zero is still written)."""
    omit = "empty" if omit_empty else "none" if omit_none else ""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"json": name, "omit": omit})


@functools.cache
def _layout(cls: type) -> tuple[tuple[str, str, str], ...]:
    """(attribute, JSON key, when to omit it: "empty", "none" or "") per field, in declaration order."""
    return tuple(
        (field.name, field.metadata.get("json") or field.name, field.metadata.get("omit", ""))
        for field in dataclasses.fields(cls)
    )


def _empty(value: object) -> bool:
    return value is None or value is False or (not isinstance(value, bool) and value in ("", 0, (), [], {}))


_SCALARS = frozenset({str, int, bool, type(None)})


def to_data(value: object) -> object:
    """The JSON value of a document: dataclasses become objects in field order, integral floats ints.

    Written for speed (`parse-pipeline` of 1,000 assets converts some 50,000 objects): exact scalar types
    first, then documents by their cached layout.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list or kind is tuple:
        return [to_data(item) for item in value]
    if kind is dict:
        return {str(key): to_data(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {}
        for attribute, key, omit in _layout(kind):
            item = getattr(value, attribute)
            if (omit == "empty" and _empty(item)) or (omit == "none" and item is None):
                continue
            data[key] = to_data(item)
        return data
    if isinstance(value, str | bool | int):  # subclasses (YAML's plain scalars)
        return value
    if isinstance(value, float):
        # infinities and NaN stay floats: `encode` refuses them, as Go does
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    return str(value)  # dates and other scalars YAML produced: their text, as Go prints them


def encode(value: object, *, indent: bool = False) -> str:
    """The document as Go's `json.Marshal` (compact) or `json.MarshalIndent(v, "", "  ")` writes it."""
    text = json.dumps(
        to_data(value),
        ensure_ascii=False,
        allow_nan=False,
        indent=2 if indent else None,
        separators=None if indent else (",", ":"),
    )
    return text.translate(_ESCAPES)
