"""Validating a model's fields without pydantic, for the inputs a config or a secret actually holds.

Loading ``.bruin.yml`` is on the path of every run, and importing pydantic and building its
validators would cost more than the rest of the start-up together. The rules a connection needs
are few: text fields take YAML and JSON numbers too, number fields take numeric text, booleans
take pydantic's words (``yes``, ``off``, ``1``...), literals their values, nested models mappings;
a null means "not set"; unknown keys are dropped, or kept by models that keep them.

The fast path accepts only values it is certain pydantic's lax mode would accept, and gives the
same result for them. Anything else (a rejected value, but also ``" 5432 "``, ``1_000`` or bytes)
goes to the model's pydantic twin (``twins.py``), which decides: its result, or its first error,
in its words. So pydantic is imported only when a config holds an unusual or a wrong value.
"""

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from pybruin.config.connections.fields import Field

if TYPE_CHECKING:
    from pybruin.config.connections.base import Model

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,18}(?:\.[0-9]{1,18})?")
_BOOLEANS = {
    "true": True, "t": True, "yes": True, "y": True, "on": True, "1": True,
    "false": False, "f": False, "no": False, "n": False, "off": False, "0": False,
}  # fmt: skip
# Beyond these sizes (never met in a config) pydantic decides: an integer's float, and its text.
_EXACT_FLOATS = 2**53
_SHORT_INTEGERS = 10**18


class FieldError(ValueError):
    """A field's value is invalid: where (a dotted key path) and why, never the value itself."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"field '{location}': {reason}" if location else reason)
        self.location = location


class _Unsure(Exception):
    """The fast path does not accept a value; pydantic decides."""


Values = tuple[dict[str, object], dict[str, object] | None]


def validated_values(model: "type[Model]", data: Mapping[object, object]) -> Values:
    """``model``'s attribute values for ``data``, and its unknown keys if the model keeps them.

    Raises :class:`FieldError` for the first invalid field, in declaration order.
    """
    try:
        return _values(model, data)
    except _Unsure:
        pass
    from pybruin.config.connections.twins import judged  # imports pydantic, so only for unusual values

    return _values(model, judged(model, data))


def _values(model: "type[Model]", data: object) -> Values:
    if not isinstance(data, dict):
        raise _Unsure
    present = {key: value for key, value in data.items() if value is not None}
    values: dict[str, object] = {}
    for field in model.declared_fields:
        if field.key in present:
            values[field.name] = _value(field, present[field.key])
        elif field.required:
            raise _Unsure
        else:
            values[field.name] = field.default
    if not model.keeps_unknown_keys:
        return values, None
    declared = {field.key for field in model.declared_fields}
    extra = {key: value for key, value in present.items() if key not in declared}
    if not all(isinstance(key, str) for key in extra):
        raise _Unsure
    return values, extra


def _value(field: Field, value: object) -> object:
    if field.choices:
        if isinstance(value, str) and value in field.choices:
            return str(value)
        raise _Unsure
    convert = _SCALARS.get(field.kind)
    if convert is None:  # a nested model
        return field.kind.from_values(*_values(field.kind, value))
    result = convert(value)
    if field.greater_than is not None and not result > field.greater_than:
        raise _Unsure
    return result


def _text(value: object) -> str:
    if isinstance(value, str) or type(value) is float:
        return str(value)
    if type(value) is int and -_SHORT_INTEGERS < value < _SHORT_INTEGERS:
        return str(value)
    raise _Unsure


def _integer(value: object) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise _Unsure


def _number(value: object) -> float:
    if type(value) is float:
        return value
    if type(value) is int and -_EXACT_FLOATS <= value <= _EXACT_FLOATS:
        return float(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    raise _Unsure


def _boolean(value: object) -> bool:
    if type(value) is bool:
        return value
    if isinstance(value, str) and value.isascii() and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    raise _Unsure


_SCALARS: dict[type, Callable[[object], object]] = {str: _text, int: _integer, float: _number, bool: _boolean}
