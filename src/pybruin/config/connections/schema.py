"""A JSON schema for each typed connection type, for editors and tools that write ``.bruin.yml``.

Generated from the same field declarations the models are validated with, through their pydantic
twins, so a schema cannot drift from what ``build_connection`` accepts: required fields, the keys
as written (``schema``), defaults and allowed values. Credentials are marked ``"writeOnly": true``
and ``"format": "password"``. This imports pydantic; it is never on the path of a run.
"""

from typing import Any

from pybruin.config.connections.catalogue import CONNECTION_TYPES
from pybruin.config.connections.twins import twin


def connection_json_schema(type_key: str) -> dict[str, Any]:
    """The JSON schema of one typed connection type's fields; ``KeyError`` for a type without a model."""
    return twin(CONNECTION_TYPES[type_key]).model_json_schema(by_alias=True)


def connection_json_schemas() -> dict[str, dict[str, Any]]:
    """Every typed connection type's JSON schema, by type key, sorted."""
    return {type_key: connection_json_schema(type_key) for type_key in sorted(CONNECTION_TYPES)}
