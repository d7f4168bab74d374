"""`bruin lineage <asset>`: which assets of its pipeline an asset depends on and which depend on it.

As upstream: the asset's own `depends` (the pipeline's `default:` block is not applied), assets only when
the pipeline has them, direct dependencies unless `full` (then transitively, each asset once, nearest
first), and its `uri:` dependencies listed as external.
"""

from __future__ import annotations

import os
from pathlib import Path

from pybruin.documents import lineage as doc
from pybruin.errors import BruinError
from pybruin.inspection.parsing import asset_document, pipeline_root, written_upstreams
from pybruin.pipeline.loader import load_pipeline
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.records import Record

_NOT_AN_ASSET = "failed to find the asset with the given path, are you sure you have referred the right file?"


class Lineage(Record):
    pipeline: Pipeline
    asset: Asset
    upstream: list[Asset]
    downstream: list[Asset]
    #: the URIs of the asset's `uri:` dependencies
    external: list[str]

    def document(self) -> doc.LineageDocument:
        external = [doc.LineageDependency(uri, external=True) for uri in self.external]
        return doc.LineageDocument(
            self.asset.name,
            self.asset.type,
            [*map(self._dependency, self.upstream), *external],
            [self._dependency(asset) for asset in self.downstream],
        )

    def render(self) -> str:
        """Upstream's plain text: a block per direction, paths relative to the pipeline."""
        upstream = [f"- {a.name} ({self._relative(a)})" for a in self.upstream] + [
            f"- {uri} (EXTERNAL)" for uri in self.external
        ]
        downstream = [f"- {a.name} ({self._relative(a)})" for a in self.downstream]
        return (
            f"\nLineage: '{self.asset.name}'"
            + _block("Upstream Dependencies", upstream, "Asset has no upstream dependencies.")
            + _block("Downstream Dependencies", downstream, "Asset has no downstream dependencies.")
        )

    def _dependency(self, asset: Asset) -> doc.LineageDependency:
        full = asset_document(asset, self.pipeline, content=False)
        return doc.LineageDependency(full.name, full.type, full.executable_file, full.definition_file)

    def _relative(self, asset: Asset) -> str:
        return os.path.relpath(asset.definition_file, self.pipeline.directory)


def asset_lineage(path: Path, *, full: bool = False) -> Lineage:
    """The lineage of the asset defined in `path`; BruinError in upstream's words when there is none."""
    try:
        root = pipeline_root(path.parent if path.is_file() else path)
    except BruinError:
        raise BruinError(f"Failed to find the pipeline this task belongs to: '{path}'") from None
    pipeline = load_pipeline(root)
    target = Path(os.path.abspath(path))
    asset = next((a for a in pipeline.assets if Path(os.path.abspath(a.definition_file)) == target), None)
    if asset is None:
        raise BruinError(_NOT_AN_ASSET)
    by_name = {a.name: a for a in pipeline.assets}
    upstreams = {a.name: _found(written_upstreams(a), by_name) for a in pipeline.assets}
    downstreams: dict[str, list[Asset]] = {a.name: [] for a in pipeline.assets}
    for dependent in pipeline.assets:
        for upstream in upstreams[dependent.name]:
            downstreams[upstream.name].append(dependent)
    external = [u.value for u in written_upstreams(asset) if u.type == "uri"]
    if not full:
        return Lineage(pipeline, asset, upstreams[asset.name], downstreams[asset.name], external)
    return Lineage(pipeline, asset, _transitive(asset, upstreams), _transitive(asset, downstreams), external)


def _found(dependencies: list, by_name: dict[str, Asset]) -> list[Asset]:
    """The `asset` dependencies the pipeline has, in the order written."""
    return [by_name[u.value] for u in dependencies if u.type == "asset" and u.value in by_name]


def _transitive(asset: Asset, edges: dict[str, list[Asset]]) -> list[Asset]:
    """Every asset reachable along `edges`, depth first, each once (upstream's order)."""
    found: dict[str, Asset] = {}

    def visit(current: Asset) -> None:
        for neighbour in edges[current.name]:
            if neighbour.name not in found and neighbour.name != asset.name:  # seen (its own are too), or a cycle
                found[neighbour.name] = neighbour
                visit(neighbour)

    visit(asset)
    return list(found.values())


def _block(title: str, lines: list[str], absent: str) -> str:
    body = "\n".join(lines) + f"\n\nTotal: {len(lines)}\n" if lines else absent + "\n"
    return f"\n\n{title}\n{'=' * 24}\n{body}"
