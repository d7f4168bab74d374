"""From a type key and the fields as written to a validated :class:`Connection`.

The one way connections are made, for ``.bruin.yml`` entries and secrets-backend payloads alike:
the second stage of ``${VAR}`` expansion, paths made absolute against the config file's folder,
then validation, whose error names the connection and the field but never a value.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from pybruin.config.connections.base import Connection
from pybruin.config.connections.catalogue import CONNECTION_TYPES, KNOWN_TYPE_KEYS
from pybruin.config.connections.coerce import FieldError
from pybruin.config.connections.untyped import untyped_model
from pybruin.config.expand import expand_unset_to_empty
from pybruin.errors import BruinError


class ConnectionConfigError(BruinError):
    """A connection's fields are invalid. The message names the connection and field, never a value."""


def build_connection(
    type_key: str, fields: Mapping[str, object], *, base_dir: Path | None, environ: Mapping[str, str]
) -> Connection:
    """Validate one connection's fields into a :class:`Connection`.

    Remaining ``${NAME}`` references become the variable's value or ``""`` everywhere except in
    ``name``, which identifies the connection and so stays as written. Relative paths are resolved
    against ``base_dir`` (the config file's folder); ``base_dir=None``, for secrets backends, leaves
    them alone. Raises :class:`ConnectionConfigError`; its message never contains a field's value.
    """
    model = _model_for(type_key)
    data = {key: value if key == "name" else expand_unset_to_empty(value, environ) for key, value in fields.items()}
    if base_dir is not None:
        for key in model.path_keys(data):
            data[key] = _resolved_path(data[key], base_dir)
    try:
        return model.validate(data)
    except FieldError as exc:
        problem = str(exc)  # raised below, outside this block, so that nothing chains to the FieldError
    name = data.get("name")
    label = name if isinstance(name, str) else ""
    raise ConnectionConfigError(f"connection '{label}' ({type_key}): {problem}")


def _model_for(type_key: str) -> type[Connection]:
    model = CONNECTION_TYPES.get(type_key)
    if model is not None:
        return model
    if type_key in KNOWN_TYPE_KEYS:
        return untyped_model(type_key)
    raise ConnectionConfigError(f"unknown connection type '{type_key}'")


def _resolved_path(value: object, base_dir: Path) -> object:
    if not isinstance(value, str) or not value or value == ":memory:" or os.path.isabs(value):
        return value
    return os.path.normpath(os.path.join(base_dir, value))
