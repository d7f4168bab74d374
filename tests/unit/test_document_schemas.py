"""Every JSON document pybruin prints has a published schema, and the published files match the code."""

from __future__ import annotations

import json
from pathlib import Path

from pybruin.documents import parse
from pybruin.documents.encoding import encode
from pybruin.documents.schema import PUBLISHED, published_schemas, render

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas"


def test_the_published_schemas_are_current():
    for name, schema in published_schemas().items():
        path = SCHEMAS / f"{name}.schema.json"
        assert path.read_text(encoding="utf-8") == render(schema), "regenerate: python -m pybruin.documents.schema"
    assert sorted(path.name for path in SCHEMAS.iterdir()) == sorted(f"{name}.schema.json" for name in PUBLISHED)


def test_omitted_fields_are_not_required():
    definition = published_schemas()["parse-pipeline"]["$defs"]["AssetDocument"]
    assert "enabled" not in definition["required"] and "tier" not in definition["required"]
    assert "retries" in definition["required"] and definition["properties"]["retries"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}]
    }


def test_go_encoding():
    assert encode({"a": [1.0, 2.5, "<&>\u2028"], "b": None}) == '{"a":[1,2.5,"\\u003c\\u0026\\u003e\\u2028"],"b":null}'
    assert encode(parse.Hooks()) == "{}"
    assert encode(parse.Upstream("asset", "x")) == '{"type":"asset","value":"x","columns":[],"mode":"full"}'
    assert json.loads(encode(parse.TimeModifier(hours=-2), indent=True))["hours"] == -2
