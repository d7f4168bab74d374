"""Every rule of what an asset process sees in its environment, in one place.

An asset process starts from the parent environment minus pybruin's own credentials (or, pristine, from a
handful of locale and path variables), gets the run context (`BRUIN_*` dates, run id, variables), who it is
(`BRUIN_ASSET`, `BRUIN_CONNECTION`), unbuffered output, the project root on `PYTHONPATH` for Python, and
exactly the secrets it declared — each under its `inject_as` name, with `BRUIN_CONNECTION_TYPES` saying
their types. Tools pybruin runs for an asset (uv building its environment) get the withheld parent
environment and nothing of the run. Secrets only ever travel here, never in a command line or a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pybruin.errors import BruinError
from pybruin.pipeline.needs import Needs
from pybruin.records import Record
from pybruin.run.context import RunContext, format_timestamp
from pybruin.secrets.registry import is_backend_variable

if TYPE_CHECKING:
    from pybruin.secrets.view import Resolved

PRISTINE_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
# Set per asset: a parent's value must never reach the assets that do not get their own.
_PER_ASSET = frozenset({"BRUIN_CONNECTION", "BRUIN_CONNECTION_TYPES"})


class ConnectionSource(Protocol):
    """How the run looks connections up; it never learns which store is behind it."""

    def get(self, name: str) -> Resolved | None:
        """None when no store has the connection; raises BruinError when a store cannot answer."""

    def not_found_message(self, name: str) -> str | None:
        """The store's own words for a name it does not have; None when it has none."""


class SecretNotReceived(BruinError):
    """A declared secret the asset cannot get; `also` is the other half of what upstream shows (the store's
    message when the asset fails with upstream's text, upstream's text when it fails with the store's)."""

    def __init__(self, message: str, *, key: str, also: str | None) -> None:
        super().__init__(message)
        self.key = key
        self.also = also


class ReceivedSecret(Record):
    """One line of the run manifest: which credential an asset could read — never its value."""

    key: str
    inject_as: str
    type: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "inject_as": self.inject_as, "type": self.type, "source": self.source}


def missing_secret_message(key: str) -> str:
    """Upstream's exact text for a declared secret that no store has."""
    return f"there's no secret with the name '{key}'."


def run_variables(context: RunContext) -> dict[str, str]:
    """The `BRUIN_*` variables every asset process of the run shares (reference §4.5)."""
    env = {"PYTHONUNBUFFERED": "1"}
    for prefix, moment in (("START", context.start), ("END", context.end), ("EXECUTION", context.execution)):
        env[f"BRUIN_{prefix}_DATE"] = moment.strftime("%Y-%m-%d")
        env[f"BRUIN_{prefix}_DATETIME"] = moment.strftime("%Y-%m-%dT%H:%M:%S")
        env[f"BRUIN_{prefix}_TIMESTAMP"] = format_timestamp(moment)
    env.update(
        BRUIN_RUN_ID=context.run_id,
        BRUIN_PIPELINE=context.pipeline,
        BRUIN_FULL_REFRESH="1" if context.full_refresh else "",
        BRUIN_COMMIT_HASH=context.commit,
        BRUIN_SCHEMA_PREFIX=context.schema_prefix,
        BRUIN_VARS=json.dumps(context.variables, separators=(",", ":")),
        BRUIN_VARS_SCHEMA=json.dumps(context.variables_schema, separators=(",", ":")),
    )
    return env


class ChildEnvironments:
    """The environments of one run's child processes, built from rules fixed when the run starts.

    Withheld from every child: every variable that configures a secret store (`BRUIN_VAULT_*`, ...,
    `BRUIN_CONFIG_FILE_CONTENT`), the SDK credentials of the selected store (`store_credentials`,
    such as `AWS_SECRET_ACCESS_KEY`), which are pybruin's own while that store is in use, and the
    variables behind `${VAR}` placeholders of credential fields (`withheld`, such as `PGPASSWORD`): the
    asset that declares the connection receives the connection, the others nothing of it.
    """

    def __init__(
        self,
        parent: Mapping[str, str],
        *,
        store_credentials: frozenset[str],
        withheld: frozenset[str] = frozenset(),
        pristine: bool,
        context: RunContext,
        project_root: Path,
    ) -> None:
        self._inherited = {
            name: value
            for name, value in parent.items()
            if not is_backend_variable(name) and name not in store_credentials and name not in withheld
        }
        if pristine:
            self._asset_base = {name: parent[name] for name in PRISTINE_VARIABLES if name in self._inherited}
        else:
            self._asset_base = {name: value for name, value in self._inherited.items() if name not in _PER_ASSET}
        self._asset_base.update(run_variables(context))
        self._python_path = os.pathsep.join(filter(None, (str(project_root), self._asset_base.get("PYTHONPATH"))))

    def tool(self) -> dict[str, str]:
        """For tools run on an asset's behalf (uv): the parent environment minus what is withheld."""
        return dict(self._inherited)

    def asset(
        self, name: str, needs: Needs, connections: ConnectionSource, *, python: bool
    ) -> tuple[dict[str, str], list[ReceivedSecret]]:
        """An asset process's environment, and the manifest lines of the secrets it receives.

        Raises SecretNotReceived for a declared secret no store has or can give, before anything starts.
        """
        env = dict(self._asset_base)
        env["BRUIN_ASSET"] = env["BRUIN_THIS"] = name
        if needs.connection:
            env["BRUIN_CONNECTION"] = needs.connection
        types: dict[str, str] = {}
        received: list[ReceivedSecret] = []
        for mapping in needs.secrets:  # in declaration order: a later `inject_as` wins
            key = mapping.key
            try:
                resolved = connections.get(key)
            except BruinError as err:
                raise SecretNotReceived(str(err), key=key, also=missing_secret_message(key)) from None
            if resolved is None:
                raise SecretNotReceived(missing_secret_message(key), key=key, also=connections.not_found_message(key))
            connection = resolved.connection
            env[mapping.inject_as] = connection.injection_value()
            types[mapping.inject_as] = connection.type_key
            received.append(ReceivedSecret(mapping.key, mapping.inject_as, connection.type_key, resolved.source))
        if types:
            env["BRUIN_CONNECTION_TYPES"] = json.dumps(dict(sorted(types.items())), separators=(",", ":"))
        if python:
            env["PYTHONPATH"] = self._python_path
        return env, received
