"""Project discovery, ``.bruin.yml`` loading, ``${VAR}`` expansion and typed connections."""

from pybruin.config.bruin_yml import BruinConfig, Environment, load_config
from pybruin.config.connections import (
    CONNECTION_TYPES,
    KNOWN_TYPE_KEYS,
    Connection,
    ConnectionConfigError,
    UntypedConnection,
    build_connection,
)
from pybruin.config.expand import expand_set_variables, expand_unset_to_empty
from pybruin.config.project import find_project_root

__all__ = [
    "CONNECTION_TYPES",
    "KNOWN_TYPE_KEYS",
    "BruinConfig",
    "Connection",
    "ConnectionConfigError",
    "Environment",
    "UntypedConnection",
    "build_connection",
    "expand_set_variables",
    "expand_unset_to_empty",
    "find_project_root",
    "load_config",
]
