"""`bruin secrets check` and `bruin secrets list` without click: every name the assets need, and how each
resolves in the store a run would use (chains included) — names, assets and sources only, never a value.

`status` is one of `ok`, `missing`, `denied`, `unreachable`, `malformed`, `wrong type` and `error`. A connection
whose credentials are issued per run is checked by reading the definition of the role that would issue them,
which creates no credential (`issued_by` says where they would come from).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pybruin.masking import Masker
from pybruin.pipeline.model import Pipeline
from pybruin.pipeline.needs import asset_needs
from pybruin.records import Record
from pybruin.secrets.base import BackendError
from pybruin.secrets.view import StoreView
from pybruin.workspace import ProjectSettings, open_project, open_store, pipelines_under, protect_environment

STATUS_BY_KIND = {
    "denied": "denied",
    "unreachable": "unreachable",
    "malformed": "malformed",
    "wrong_type": "wrong type",
    "error": "error",
}


class Reference(Record):
    """One name an asset needs: a declared secret, or (``inject_as`` None) the connection it runs on."""

    pipeline: str
    asset: str
    key: str
    inject_as: str | None


class Outcome(Record):
    """How a name resolved; ``source`` is who answered or who failed, ``message`` why it is not ok.

    ``issued_by`` is set for a connection whose credentials the store issues per run: where they come from.
    """

    status: str
    source: str | None = None
    message: str | None = None
    issued_by: str | None = None


class SecretsReport(Record):
    """Every reference in pipeline order, each distinct name's outcome, and (for `list`) its shadows."""

    references: list[Reference]
    outcomes: dict[str, Outcome]
    shadowed: dict[str, list[str]]

    @property
    def failed(self) -> list[Reference]:
        return [ref for ref in self.references if self.outcomes[ref.key].status != "ok"]

    def users(self) -> dict[str, list[str]]:
        """Each name → the assets using it, in order."""
        users: dict[str, list[str]] = {key: [] for key in self.outcomes}
        for ref in self.references:
            if ref.asset not in users[ref.key]:
                users[ref.key].append(ref.asset)
        return users


def references(pipelines: Sequence[Pipeline]) -> Iterator[Reference]:
    """Every name each asset needs (`pybruin.pipeline.needs`), in pipeline order."""
    for pipeline in pipelines:
        for asset in pipeline.assets:
            for key, inject_as in asset_needs(asset, pipeline).references():
                yield Reference(pipeline.name, asset.name, key, inject_as)


def resolve_references(settings: ProjectSettings, masker: Masker, *, with_shadows: bool = False) -> SecretsReport:
    """Resolve every name the assets under `settings.path` need, each read once, running nothing."""
    project = open_project(settings)
    protect_environment(project, masker)
    refs = list(references(pipelines_under(settings.path)))
    names = list(dict.fromkeys(ref.key for ref in refs))
    with open_store(project, settings, masker) as store:
        store.prefetch(names)
        outcomes = {name: _resolve(store, name, masker) for name in names}
        shadowed = {
            key: store.shadowed(key) if with_shadows and outcome.status == "ok" else []
            for key, outcome in outcomes.items()
        }
    return SecretsReport(refs, outcomes, shadowed)


def _resolve(store: StoreView, key: str, masker: Masker) -> Outcome:
    """Look ``key`` up as a run would, registering what it finds with the masker that filters all output."""
    try:
        resolved = store.get(key)
        if resolved is None:
            return Outcome("missing", None, store.missing_message(key))
        masker.protect_connection(resolved.connection)
        issued_by = store.describe_lease(key)
    except BackendError as err:
        return Outcome(STATUS_BY_KIND[err.kind], store.failure_source(err), str(err))
    return Outcome("ok", resolved.source, issued_by=issued_by)
