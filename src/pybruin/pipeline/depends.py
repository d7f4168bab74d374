"""An asset's `depends` entries as written: what upstream's documents list as its upstreams, and what the run
state's compatibility hash reads. (The DAG reads the dependencies `pipeline/headers.py` parsed instead.)

Kept apart from `inspection/parsing.py`, which builds the documents, so that `bruin run`, which hashes these
after its assets for its state file, does not import the documents' classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pybruin.pipeline.model import Asset, Pipeline
from pybruin.records import Record, field


def scalar_text(value: object) -> str:
    """A header value as upstream's documents write it in a string field: `true`/`false`, "" for nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


class WrittenDependency(Record):
    """One `depends` entry: `type` is `asset` or `uri`; `entry` the mapping as written ({} for a bare name)."""

    type: str
    value: str
    entry: Mapping[str, Any] = field(default_factory=dict)


def asset_dependencies(asset: Asset, pipeline: Pipeline) -> list[WrittenDependency]:
    """The asset's `depends` entries as written, then the pipeline default's it lacks."""
    defaults = pipeline.definition.get("default")
    inherited = defaults.get("depends") if isinstance(defaults, dict) else None
    return written_dependencies(asset.header.get("depends"), inherited)


def written_dependencies(*sources: object) -> list[WrittenDependency]:
    """The entries of each `depends` value in `sources` (a list, or a single entry), the first of each type and
    value only; entries that are neither a name nor a mapping are not dependencies."""
    found: list[WrittenDependency] = []
    seen: set[tuple[str, str]] = set()
    for source in sources:
        items = source if isinstance(source, list) else [] if source is None else [source]
        for item in items:
            written = _written(item)
            if written is not None and (written.type, written.value) not in seen:
                seen.add((written.type, written.value))
                found.append(written)
    return found


def _written(item: object) -> WrittenDependency | None:
    if isinstance(item, str):
        return WrittenDependency("asset", item)
    if not isinstance(item, dict):
        return None
    kind = "uri" if item.get("uri") is not None and item.get("asset") is None else "asset"
    return WrittenDependency(kind, scalar_text(item.get(kind)), item)
