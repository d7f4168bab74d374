"""JSON schemas (draft 2020-12) of the documents, derived from their dataclasses.

`python -m pybruin.documents.schema DIR` writes one `<name>.schema.json` per document of `PUBLISHED`; a test
checks that `docs/schemas/` matches, so a change to a document is a change to its published schema.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import importlib
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

from pybruin.documents.encoding import _layout

#: Published document name → "module:class".
PUBLISHED = {
    "parse-pipeline": "pybruin.documents.parse:PipelineDocument",
    "parse-pipeline-slim": "pybruin.documents.parse:SlimPipelineDocument",
    "parse-asset": "pybruin.documents.parse:AssetEnvelope",
    "validate": "pybruin.documents.validation:ValidationDocument",
    "version": "pybruin.documents.version:VersionDocument",
    "connections-list": "pybruin.documents.connections:ConnectionsDocument",
    "environments-list": "pybruin.documents.environments:EnvironmentsDocument",
    "environments-update": "pybruin.documents.environments:EnvironmentUpdated",
    "environments-delete": "pybruin.documents.environments:EnvironmentDeleted",
    "environments-clone": "pybruin.documents.environments:EnvironmentCloned",
    "connections-delete": "pybruin.documents.environments:ConnectionDeleted",
    "connections-test": "pybruin.documents.messages:TestedDocument",
    "list-templates": "pybruin.documents.templates:TemplatesDocument",
    "run-state": "pybruin.documents.run_state:RunStateDocument",
    "query": "pybruin.documents.query:QueryDocument",
    "query-export": "pybruin.documents.query:ExportDocument",
    "query-dry-run": "pybruin.documents.query:DryRunDocument",
    "render": "pybruin.documents.render:RenderDocument",
    "lineage": "pybruin.documents.lineage:LineageDocument",
    "error": "pybruin.documents.messages:ErrorDocument",
    "status": "pybruin.documents.messages:StatusDocument",
}


def json_schema(model: Any) -> dict[str, Any]:
    """The schema of `model` (a document dataclass, or a list of them), its nested documents in `$defs`."""
    definitions: dict[str, Any] = {}
    root = _schema(model, definitions)
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **root}
    if definitions:
        document["$defs"] = dict(sorted(definitions.items()))
    return document


def _schema(hint: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    if hint is Any or hint is object:
        return {}
    if hint is type(None):
        return {"type": "null"}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}.get(hint)
    if simple:
        return {"type": simple}
    if dataclasses.is_dataclass(hint):
        return _reference(hint, definitions)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg, definitions) for arg in args]}
    if origin in (list, tuple, collections.abc.Sequence):
        return {"type": "array", "items": _schema(args[0] if args else Any, definitions)}
    if origin in (dict, collections.abc.Mapping):
        return {"type": "object", "additionalProperties": _schema(args[1] if len(args) == 2 else Any, definitions)}
    raise TypeError(f"no JSON schema for {hint!r}")


def _reference(cls: type, definitions: dict[str, Any]) -> dict[str, Any]:
    name = cls.__name__
    if name not in definitions:
        definitions[name] = {}  # a placeholder first: documents may nest themselves
        hints = typing.get_type_hints(cls)
        properties, required = {}, []
        for attribute, key, omit in _layout(cls):
            properties[key] = _schema(hints[attribute], definitions)
            if not omit:
                required.append(key)
        definition: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            definition["required"] = required
        if cls.__doc__ and not cls.__doc__.startswith(f"{name}("):  # not dataclasses' generated signature
            definition["description"] = " ".join(cls.__doc__.split())
        definitions[name] = definition
    return {"$ref": f"#/$defs/{name}"}


def published_schemas() -> dict[str, dict[str, Any]]:
    """Every published document's schema, by document name."""
    schemas = {}
    for name, target in PUBLISHED.items():
        module, _, attribute = target.partition(":")
        model = getattr(importlib.import_module(module), attribute)
        schemas[name] = json_schema(model)
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in published_schemas().items():
        path = folder / f"{name}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
