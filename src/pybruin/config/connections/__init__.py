"""Connections: the models behind ``.bruin.yml`` entries and secrets-backend payloads.

One concern per module: ``fields`` (how a field is declared, and its roles), ``base`` (the frozen
``Model`` and ``Connection``), ``coerce`` (the pydantic-free validator), ``models`` (the typed
models), ``untyped`` (the other known types), ``credentials`` (masking forms and key-name
heuristics), ``files`` (reading secret files), ``catalogue`` (type keys), ``build``
(``build_connection``); off the run path, ``twins`` (pydantic equivalents, for unusual values and
error messages) and ``schema`` (JSON schemas).
"""

from pybruin.config.connections.base import Connection, Model
from pybruin.config.connections.build import ConnectionConfigError, build_connection
from pybruin.config.connections.catalogue import CONNECTION_TYPES, KNOWN_TYPE_KEYS, credential_fields
from pybruin.config.connections.coerce import FieldError
from pybruin.config.connections.models import (
    AthenaConnection,
    AwsConnection,
    ClickHouseConnection,
    DatabricksConnection,
    DuckDBConnection,
    GenericConnection,
    GoogleCloudPlatformConnection,
    Lakehouse,
    LakehouseCatalog,
    LakehouseCatalogAuth,
    LakehouseStorage,
    LakehouseStorageAuth,
    MotherDuckConnection,
    MsSQLConnection,
    MySQLConnection,
    PostgresConnection,
    RedshiftConnection,
    SnowflakeConnection,
    SQLiteConnection,
)
from pybruin.config.connections.untyped import UntypedConnection

__all__ = [
    "CONNECTION_TYPES",
    "KNOWN_TYPE_KEYS",
    "AthenaConnection",
    "AwsConnection",
    "ClickHouseConnection",
    "Connection",
    "ConnectionConfigError",
    "DatabricksConnection",
    "DuckDBConnection",
    "FieldError",
    "GenericConnection",
    "GoogleCloudPlatformConnection",
    "Lakehouse",
    "LakehouseCatalog",
    "LakehouseCatalogAuth",
    "LakehouseStorage",
    "LakehouseStorageAuth",
    "Model",
    "MotherDuckConnection",
    "MsSQLConnection",
    "MySQLConnection",
    "PostgresConnection",
    "RedshiftConnection",
    "SQLiteConnection",
    "SnowflakeConnection",
    "UntypedConnection",
    "build_connection",
    "credential_fields",
]
