"""Pydantic twins of the declarative models: the judge of unusual values, and the source of JSON schemas.

Each model gets, on first use, a pydantic model built from the same :class:`Field` declarations and
with the settings connections have always been validated with: numbers are fine where text is
expected, unknown keys are ignored (or kept, for models that keep them), a null means "not set".
The fast validator hands it whatever it does not accept itself, so unusual values get pydantic's
lax-mode result and invalid ones pydantic's words. This module imports pydantic: nothing on the path
of an ordinary run imports it.
"""

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model, model_validator
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo

from pybruin.config.connections.coerce import FieldError
from pybruin.config.connections.fields import Field, Role

if TYPE_CHECKING:
    from pybruin.config.connections.base import Model

_PLAIN_KINDS = (str, int, float, bool)
_DESCRIPTIONS = {
    Role.SECRET_FILE: "Path to a file whose contents are a credential; relative to the config file's folder.",
    Role.PATH: "Path; relative to the config file's folder.",
}


class _Twin(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True, extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        """A key written without a value (``password:``) means "not set", as it does upstream."""
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value is not None}
        return data


class _OpenTwin(_Twin):
    model_config = ConfigDict(extra="allow")


@functools.cache
def twin(model: "type[Model]") -> type[BaseModel]:
    """The pydantic equivalent of ``model``, named like it (pydantic's messages name nested models)."""
    definitions: dict[str, Any] = {
        field.name: (_annotation(field), _field_info(field)) for field in model.declared_fields
    }
    base = _OpenTwin if model.keeps_unknown_keys else _Twin
    return create_model(model.__name__, __base__=base, __module__=model.__module__, **definitions)


def judged(model: "type[Model]", data: Mapping[object, object]) -> dict[str, Any]:
    """Pydantic's verdict on ``data``: the fields given, as plain values, or a :class:`FieldError`."""
    try:
        instance = twin(model).model_validate(data)
    except ValidationError as exc:
        # Only the first problem, and without pydantic's `input`, which would echo the value.
        problem = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    else:
        return instance.model_dump(by_alias=True, exclude_unset=True)
    raise FieldError(".".join(str(part) for part in problem["loc"]), problem["msg"].replace("\n", " "))


def _annotation(field: Field) -> Any:
    if field.choices:
        kind: Any = Literal[field.choices]
    elif field.kind in _PLAIN_KINDS:
        kind = field.kind
    else:
        kind = twin(field.kind)
    return kind | None if field.default is None else kind


def _field_info(field: Field) -> FieldInfo:
    schema: dict[str, Any] = {}
    if Role.SECRET in field.roles:
        schema = {"format": "password", "writeOnly": True}
    description = next((_DESCRIPTIONS[role] for role in (Role.SECRET_FILE, Role.PATH) if role in field.roles), None)
    info: FieldInfo = PydanticField(
        default=... if field.required else field.default,
        alias=field.key if field.key != field.name else None,
        gt=field.greater_than,
        description=description,
        json_schema_extra=schema or None,
    )
    return info
