"""Connections of the known types pybruin has no model for: fields kept exactly as written.

About 130 of upstream's connection types are only ever passed through to assets. Their fields are
not validated (beyond ``name`` and ``max_concurrent_assets``) and which of them are credentials is
guessed from their keys (``credentials.py``). One class per type key is made on first use, so
``type_key`` and ``repr`` name the type.
"""

import functools
from collections.abc import Iterator, Mapping

from pybruin.config.connections.base import Connection, payload
from pybruin.config.connections.credentials import (
    credential_strings,
    names_connection_credential,
    names_credential_file,
)


class UntypedConnection(Connection):
    """A known connection type without a model here: its fields are kept exactly as written."""

    keeps_unknown_keys = True  # in `_extra`, in the order written

    def __getattr__(self, name: str) -> object:
        try:
            return self.__dict__["_extra"][name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None

    @classmethod
    def path_keys(cls, fields: Mapping[str, object]) -> list[str]:
        return [key for key in fields if names_credential_file(key)]

    def _injection_payload(self) -> dict[str, object]:
        return {**payload(self, ()), **self._extra}

    def _secrets(self) -> Iterator[str]:
        return credential_strings(self._extra, names_connection_credential)

    def _field_items(self) -> Iterator[tuple[str, object]]:
        yield from super()._field_items()
        yield from self._extra.items()

    def _repr_items(self) -> Iterator[tuple[str, object]]:
        yield "name", self.name


@functools.cache
def untyped_model(type_key: str) -> type[UntypedConnection]:
    """The class of ``type_key``'s connections (``chess`` → ``ChessConnection``), the same one every time."""
    class_name = "".join(part.capitalize() for part in type_key.split("_")) + "Connection"
    return type(class_name, (UntypedConnection,), {"type_key": type_key, "__module__": __name__})
