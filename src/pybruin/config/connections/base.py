"""The base classes: :class:`Model`, a frozen record of declared fields, and :class:`Connection`.

A connection knows three things the rest of pybruin needs: the value an asset receives for it
(``injection_value``), the strings that must never appear in output (``sensitive_values``), and
which of its fields are filled in (``filled_fields``, for listings that must not show values).
All three follow from the field declarations, so a model only declares fields, plus the few
upstream quirks of its injected JSON.
"""

import json
from collections.abc import Container, Iterator, Mapping
from typing import Annotated, ClassVar, Self

from pybruin.config.connections.coerce import validated_values
from pybruin.config.connections.credentials import secret_file_forms, secret_forms, url_credentials
from pybruin.config.connections.fields import Field, GreaterThan, Role, own_fields


class Model:
    """A frozen record of the fields its class declares (see ``fields.py``), validated on creation.

    ``Model(**fields)`` and ``Model.validate(mapping)`` raise ``FieldError`` for an invalid field.
    Instances compare and hash by value, and their ``repr`` leaves credentials out.
    """

    #: Every field, the inherited ones first, in declaration order.
    declared_fields: ClassVar[tuple[Field, ...]] = ()
    #: Whether keys no field declares are kept (connections without a model) or dropped.
    keeps_unknown_keys: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        merged = {field.name: field for field in (*cls.declared_fields, *own_fields(cls))}
        cls.declared_fields = tuple(merged.values())

    def __init__(self, **fields: object) -> None:
        self._hold(*validated_values(type(self), fields))

    @classmethod
    def validate(cls, data: Mapping[object, object]) -> Self:
        """An instance from a mapping, whose keys need not be identifiers (``schema``, ``api-key``)."""
        return cls.from_values(*validated_values(cls, data))

    @classmethod
    def from_values(cls, values: dict[str, object], extra: dict[str, object] | None = None) -> Self:
        """An instance holding values that are already valid, by attribute name."""
        instance = cls.__new__(cls)
        instance._hold(values, extra)
        return instance

    def replaced(self, **changes: str) -> Self:
        """A copy with some text fields changed, by attribute name (a store's per-run ``username`` and ``password``).

        The new values are used as given: no ``${VAR}`` expansion, which a generated password must not undergo.
        """
        values = {field.name: getattr(self, field.name) for field in self.declared_fields}
        unknown = sorted(name for name in changes if not isinstance(values.get(name, 0), str))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no text fields {unknown}")
        return self.from_values({**values, **changes}, self.__dict__.get("_extra"))

    def _hold(self, values: dict[str, object], extra: dict[str, object] | None) -> None:
        self.__dict__.update(values)
        if extra is not None:
            self.__dict__["_extra"] = extra

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), *(getattr(self, field.name) for field in self.declared_fields)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._repr_items())
        return f"{type(self).__name__}({shown})"

    def _repr_items(self) -> Iterator[tuple[str, object]]:
        for field in self.declared_fields:
            if not field.sensitive:
                yield field.name, getattr(self, field.name)


class Connection(Model):
    """One named connection of one type, as an asset would receive it."""

    type_key: ClassVar[str]
    #: Fields written to the injected JSON even when empty (upstream's fields without ``omitempty``).
    json_always: ClassVar[frozenset[str]] = frozenset()

    name: str
    max_concurrent_assets: Annotated[int, GreaterThan(0)] | None = None

    def injection_value(self) -> str:
        """The environment-variable value an asset gets: compact JSON of the fields (reference §4.3)."""
        return json.dumps(self._injection_payload(), separators=(",", ":"), ensure_ascii=False)

    def sensitive_values(self) -> list[str]:
        """Every non-empty credential string, nested ones and readable secret files' contents included, and
        any field's value that is a URL with a login in it (a DSN pasted into `host`), with its password."""
        logins = (form for _, value in self._field_items() if isinstance(value, str) for form in url_credentials(value))
        return list(dict.fromkeys([*self._secrets(), *logins]))

    def filled_fields(self) -> list[str]:
        """Names of the fields that hold something, so a listing can show them without values."""
        return [key for key, value in self._field_items() if key != "name" and not _is_empty(value)]

    @classmethod
    def path_keys(cls, fields: Mapping[str, object]) -> list[str]:
        """The keys among ``fields`` that hold paths relative to the config file's folder."""
        return [field.key for field in cls.declared_fields if Role.PATH in field.roles and field.key in fields]

    def _injection_payload(self) -> dict[str, object]:
        return payload(self, self.json_always)

    def _secrets(self) -> Iterator[str]:
        return _model_secrets(self)

    def _field_items(self) -> Iterator[tuple[str, object]]:
        for field in self.declared_fields:
            yield field.key, getattr(self, field.name)


def payload(model: Model, always: Container[str]) -> dict[str, object]:
    """Fields in declaration order; those not in ``always`` only when they differ from their default."""
    fields: dict[str, object] = {}
    for field in model.declared_fields:
        value = getattr(model, field.name)
        if field.name in always or value != field.default:
            fields[field.key] = payload(value, ()) if isinstance(value, Model) else value
    return fields


def _is_empty(value: object) -> bool:
    return value is None or (not isinstance(value, Model) and value in ("", 0, [], {}))


def _model_secrets(model: Model) -> Iterator[str]:
    for field in model.declared_fields:
        value = getattr(model, field.name)
        if isinstance(value, Model):
            yield from _model_secrets(value)
        elif not isinstance(value, str) or not value:
            continue
        elif Role.SECRET in field.roles:
            yield from secret_forms(value)
        elif Role.SECRET_FILE in field.roles:
            yield from secret_file_forms(value)
