"""TEMPORARY (replaced by the stores work): the run's view of the connection store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pybruin.secrets import ChainBackend, ConnectionCache, LocalBackend, SecretsBackend, describe_missing
from pybruin.secrets.base import is_backend_variable

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

LOCAL_SOURCE = ".bruin.yml"


@dataclass(frozen=True)
class Resolved:
    connection: Connection
    source: str


class StoreView:
    def __init__(self, backend: SecretsBackend, config_path: Path, environment_name: str) -> None:
        self.cache = ConnectionCache(backend)
        self.backend = backend
        self._config_path = config_path
        self._environment_name = environment_name

    def get(self, name: str) -> Resolved | None:
        connection = self.cache.get(name)
        return Resolved(connection, self.source_of(name)) if connection is not None else None

    def source_of(self, name: str) -> str:
        backend_name = self.backend.name
        if isinstance(self.backend, ChainBackend):
            backend_name = self.backend.answered_by(name) or backend_name
        return label(backend_name)

    def prefetch(self, names: Iterable[str]) -> None:
        self.cache.prefetch(names)

    def missing_message(self, name: str) -> str:
        return describe_missing(name, self.backend.name, self._config_path, self._environment_name)

    @property
    def is_config_file(self) -> bool:
        return isinstance(self.backend, LocalBackend)

    @property
    def store_name(self) -> str:
        return self.backend.name

    def shadowed(self, name: str) -> list[str]:
        if not isinstance(self.backend, ChainBackend):
            return []
        return [label(member) for member in self.backend.shadowed(name)]

    def withheld(self, name: str) -> bool:
        return is_backend_variable(name) or name in self.backend.auth_variables

    def close(self) -> None:
        self.backend.close()


def label(backend_name: str) -> str:
    return LOCAL_SOURCE if backend_name == LocalBackend.name else backend_name
