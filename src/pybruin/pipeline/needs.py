"""What an asset needs from the connection store: the one answer every command uses.

`bruin run` resolves these names before the asset starts, `bruin validate` checks that each exists,
`bruin secrets check/list` report where each comes from, and the run manifest records them. Keeping the
answer in one place is what lets those commands agree (a `duckdb.sql` asset without `connection:` needs
`duckdb-default` in all of them).
"""

from __future__ import annotations

from pybruin.pipeline.connections import effective_connection
from pybruin.pipeline.model import Asset, Pipeline, SecretMapping
from pybruin.records import Record


class Needs(Record):
    """The connection an asset runs on, the secrets its process receives, and every name to resolve.

    `secrets` are the declared ones after the merge with the pipeline defaults and the asset's own
    `connection:` (reference §3.2-3.3). `names` is `connection` followed by the secrets' keys, each once.
    """

    connection: str | None
    secrets: tuple[SecretMapping, ...]
    names: tuple[str, ...]
    #: Whether the asset is a process (Python, R) that receives `secrets` as environment variables.
    injected: bool

    def references(self) -> list[tuple[str, str | None]]:
        """`(key, inject_as)` per need, for listings: an asset that only runs on its connection (a SQL
        asset) shows it once with `inject_as` None; a process shows what it receives."""
        if self.injected or not self.connection:
            return [(secret.key, secret.inject_as) for secret in self.secrets]
        others = [(secret.key, secret.inject_as) for secret in self.secrets if secret.key != self.connection]
        return [(self.connection, None), *others]


#: Asset types whose process receives its secrets as environment variables.
PROCESS_TYPES = frozenset({"python", "r"})


def asset_needs(asset: Asset, pipeline: Pipeline) -> Needs:
    connection = effective_connection(asset, pipeline)
    secrets = tuple(secret for secret in asset.secrets if secret.key.strip())
    names = dict.fromkeys([connection] if connection else [])
    names.update(dict.fromkeys(secret.key for secret in secrets))
    return Needs(connection, secrets, tuple(names), asset.type in PROCESS_TYPES)
