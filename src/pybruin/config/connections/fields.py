"""How a connection model declares its fields, and the roles a field can play.

A model is a plain class whose annotated attributes are its fields, in order, with their defaults as
class attributes (``port: int = 0``). What a field *is* lives in its annotation and nowhere else:
its type, whether it is a credential (:data:`Secret`, :data:`SecretFile`), a path relative to the
config file (:data:`ConfigPath`), the key it is written as (:class:`Alias`) and its bound
(:class:`GreaterThan`). The annotations are read once per class into :class:`Field` records, from
which validation, injection, masking and the JSON schemas are all derived. (So a module declaring
models must not use ``from __future__ import annotations``: its annotations would be mere text.)
"""

import enum
import types
from typing import Annotated, ClassVar, Literal, NamedTuple, Union, get_args, get_origin


class Role(enum.Enum):
    SECRET = "secret"
    SECRET_FILE = "secret file"
    PATH = "config-relative path"


#: A credential: its value is masked and hidden from ``repr``.
Secret = Annotated[str, Role.SECRET]
#: A path resolved against the config file's folder when relative.
ConfigPath = Annotated[str, Role.PATH]
#: A path to a file whose *contents* are a credential.
SecretFile = Annotated[str, Role.SECRET_FILE, Role.PATH]

SENSITIVE_ROLES = frozenset({Role.SECRET, Role.SECRET_FILE})


class Alias(NamedTuple):
    """The key a field is written as when it differs from the attribute (``schema_`` is ``schema``)."""

    key: str


class GreaterThan(NamedTuple):
    """A number field's exclusive lower bound."""

    bound: int


#: The default of a field that must be given.
REQUIRED = object()


class Field(NamedTuple):
    """One declared field, as read from its class's annotation."""

    name: str  # the attribute
    key: str  # as written in ``.bruin.yml``, a secret's details and the injected JSON
    kind: type  # str, int, float or bool, or the nested model's class
    default: object  # REQUIRED when the field must be given
    roles: frozenset[Role] = frozenset()
    choices: tuple[str, ...] = ()  # a Literal's values
    greater_than: int | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def sensitive(self) -> bool:
        return not SENSITIVE_ROLES.isdisjoint(self.roles)


def own_fields(cls: type) -> list[Field]:
    """The fields ``cls`` itself declares, in order; ``ClassVar`` annotations are not fields."""
    return [
        _field(cls, name, annotation)
        for name, annotation in cls.__annotations__.items()
        if get_origin(annotation) is not ClassVar
    ]


def _field(cls: type, name: str, annotation: object) -> Field:
    default = cls.__dict__.get(name, REQUIRED)
    if get_origin(annotation) in (Union, types.UnionType):  # `Lakehouse | None`: None is only ever a default
        (annotation,) = (arg for arg in get_args(annotation) if arg is not type(None))
    markers: tuple[object, ...] = ()
    if get_origin(annotation) is Annotated:
        annotation, *markers = get_args(annotation)
    choices: tuple[str, ...] = ()
    if get_origin(annotation) is Literal:
        choices, annotation = get_args(annotation), str
    aliases = [marker.key for marker in markers if isinstance(marker, Alias)]
    bounds = [marker.bound for marker in markers if isinstance(marker, GreaterThan)]
    return Field(
        name=name,
        key=aliases[0] if aliases else name,
        kind=annotation,
        default=default,
        roles=frozenset(marker for marker in markers if isinstance(marker, Role)),
        choices=choices,
        greater_than=bounds[0] if bounds else None,
    )
