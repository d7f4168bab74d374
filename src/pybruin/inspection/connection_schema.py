"""`bruin internal connections`: the JSON schema of `.bruin.yml`'s connections, in upstream's layout.

Upstream generates it from its `Connections` struct: `$defs.Connections.properties.<type key>` is an array of
`$defs.<Model>`, every connection definition with a `required` array (the VS Code extension's connection form
needs one). pybruin generates each typed model's definition from the same declarations `build_connection`
validates with (`config/connections/schema.py`); the types pybruin passes through untyped get a definition
with `name` and `max_concurrent_assets` and any other key allowed.
"""

from __future__ import annotations

from typing import Any

SCHEMA_ID = "https://github.com/bruin-data/bruin/pkg/config/connections"


def connections_schema() -> dict[str, Any]:
    from pybruin.config.connections.catalogue import CONNECTION_TYPES, TYPE_KEYS
    from pybruin.config.connections.schema import connection_json_schemas
    from pybruin.config.connections.untyped import untyped_model

    typed = connection_json_schemas()
    definitions: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for type_key in TYPE_KEYS:
        if type_key in typed:
            schema = dict(typed[type_key])
            for name, nested in schema.pop("$defs", {}).items():
                definitions[name] = _tidy(nested)
            name = CONNECTION_TYPES[type_key].__name__
            definition = _tidy(schema)
            definitions[name] = {
                "properties": definition.get("properties", {}),
                "additionalProperties": False,
                "type": "object",
                "required": definition.get("required", []),
            }
        else:
            name = untyped_model(type_key).__name__
            definitions[name] = {
                "properties": {"name": {"type": "string"}, "max_concurrent_assets": {"type": "integer"}},
                "additionalProperties": True,
                "type": "object",
                "required": ["name"],
            }
        properties[type_key] = {"items": {"$ref": f"#/$defs/{name}"}, "type": "array"}
    definitions["Connections"] = {"properties": properties, "additionalProperties": False, "type": "object"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "$ref": "#/$defs/Connections",
        "$defs": dict(sorted(definitions.items())),
    }


def _tidy(schema: Any) -> Any:
    """Without pydantic's titles, and `X | None` as `X` (a key left out is the None), as upstream writes it."""
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options and len(options) == 2:
        (kept,) = (option for option in options if option != {"type": "null"})
        rest = {
            key: value for key, value in schema.items() if key != "anyOf" and not (key == "default" and value is None)
        }
        return _tidy({**kept, **rest})
    tidy = {key: _tidy(value) for key, value in schema.items() if key not in ("title", "properties")}
    if isinstance(schema.get("properties"), dict):  # field names are keys here: a field may be called `title`
        tidy["properties"] = {name: _tidy(value) for name, value in schema["properties"].items()}
    return tidy
