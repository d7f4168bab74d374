"""The JSON documents pybruin prints for tools and writes for the VS Code extension, in upstream's shapes.

Each document is a frozen dataclass (`documents/*.py`): the shape is declared once, in field order, and
both the JSON text (`encoding.encode`) and its published JSON schema (`schema.json_schema`, checked in under
`docs/schemas/`) are derived from it. They are plain dataclasses rather than pydantic models so that
printing one costs nothing at start-up: `bruin internal parse-pipeline` has 300 ms to answer.
"""
