"""`bruin lineage -o json`: an asset's upstream and downstream assets (spec §2.7)."""

from __future__ import annotations

from pybruin.documents.encoding import document, json_field
from pybruin.documents.parse import DefinitionFile, ExecutableFile


@document
class LineageDependency:
    """An asset of the pipeline (its files, the content left out), or an external `uri:` dependency
    (`name` is the URI, `external` true)."""

    name: str
    type: str = json_field(omit_empty=True, default="")
    executable_file: ExecutableFile | None = json_field(omit_none=True, default=None)
    definition_file: DefinitionFile | None = json_field(omit_none=True, default=None)
    external: bool | None = json_field(omit_none=True, default=None)


@document
class LineageDocument:
    """Direct dependencies, or with `--full` every one, transitively; upstream's keys (`upstreams`, but
    `downstream`)."""

    name: str
    type: str
    upstreams: list[LineageDependency]
    downstream: list[LineageDependency]
