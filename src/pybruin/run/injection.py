"""What an asset process may see: its declared secrets, the run context, and nothing of ours."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset

if TYPE_CHECKING:
    from pybruin.secrets.view import Resolved

PRISTINE_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
_PER_ASSET = frozenset({"BRUIN_CONNECTION", "BRUIN_CONNECTION_TYPES"})


class ConnectionSource(Protocol):
    """How the run looks connections up; it never learns which backend is behind it."""

    def get(self, name: str) -> Resolved | None:
        """None when no store has the connection; raises BruinError when a store cannot answer."""

    def missing_message(self, name: str) -> str:
        """The one-line error for a connection that does not exist."""


@dataclass(frozen=True)
class ReceivedSecret:
    """One line of the run manifest: which credential an asset could read — never its value."""

    key: str
    inject_as: str
    type: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "inject_as": self.inject_as, "type": self.type, "source": self.source}


def missing_secret_message(key: str) -> str:
    return f"there's no secret with the name '{key}'."


def secret_variables(asset: Asset, connections: ConnectionSource) -> tuple[dict[str, str], list[ReceivedSecret]]:
    """The env vars an asset declared, in declaration order (a later `inject_as` wins)."""
    variables: dict[str, str] = {}
    types: dict[str, str] = {}
    received: list[ReceivedSecret] = []
    for mapping in asset.secrets:
        resolved = connections.get(mapping.key)
        if resolved is None:
            raise BruinError(missing_secret_message(mapping.key))
        connection = resolved.connection
        variables[mapping.inject_as] = connection.injection_value()
        types[mapping.inject_as] = connection.type_key
        received.append(ReceivedSecret(mapping.key, mapping.inject_as, connection.type_key, resolved.source))
    if types:
        variables["BRUIN_CONNECTION_TYPES"] = json.dumps(dict(sorted(types.items())), separators=(",", ":"))
    return variables, received


def base_environment(parent: Mapping[str, str], *, withheld: Callable[[str], bool], pristine: bool) -> dict[str, str]:
    """What every asset process of a run starts from, before the run context and its own secrets.

    The parent environment minus pybruin's own credentials and the per-asset context variables that only
    some assets get (a parent's value would reach the others), or, when pristine, only a handful of locale
    and path variables.
    """
    if pristine:
        return {name: parent[name] for name in PRISTINE_VARIABLES if name in parent}
    return {name: value for name, value in parent.items() if not withheld(name) and name not in _PER_ASSET}


def asset_environment(
    asset: Asset, *, base: Mapping[str, str], run_variables: Mapping[str, str], secrets: Mapping[str, str]
) -> dict[str, str]:
    """The full environment of an asset process: `base`, then the run context, then the asset's secrets."""
    env = {**base, **run_variables}
    env["BRUIN_ASSET"] = env["BRUIN_THIS"] = asset.name
    if asset.connection:
        env["BRUIN_CONNECTION"] = asset.connection
    env.update(secrets)
    return env
