"""The typed connection models: one class per connection type pybruin knows the fields of.

Each declares its fields as upstream Bruin's config struct has them (names, ``schema`` alias,
defaults) and which of them are credentials or paths; ``json_always`` lists the fields upstream
writes to the injected JSON even when empty. Snowflake and Google Cloud are injected as upstream
builds them, by hand: sorted maps with the key file's contents inlined.
"""

# No `from __future__ import annotations`: the field declarations are read from the annotations.
from collections.abc import Iterator
from typing import Annotated, Literal

from pybruin.config.connections.base import Connection, Model, payload
from pybruin.config.connections.fields import Alias, ConfigPath, Secret, SecretFile
from pybruin.config.connections.files import read_for_injection

#: The ``schema`` key, an attribute named ``schema_``.
SchemaName = Annotated[str, Alias("schema")]


class GenericConnection(Connection):
    """A named string; assets receive the raw value, not JSON."""

    type_key = "generic"

    value: Secret = ""

    def injection_value(self) -> str:
        return self.value


class _ServerConnection(Connection):
    """The five fields every database server connection starts with, always present in its JSON."""

    json_always = frozenset({"username", "password", "host", "port", "database"})

    username: str = ""
    password: Secret = ""
    host: str = ""
    port: int = 0
    database: str = ""


class PostgresConnection(_ServerConnection):
    type_key = "postgres"

    schema_: SchemaName = ""
    pool_max_conns: int = 0
    ssl_mode: str = ""


class RedshiftConnection(_ServerConnection):
    type_key = "redshift"
    json_always = _ServerConnection.json_always | {"schema_"}

    schema_: SchemaName = ""
    ssl_mode: str = ""


class MySQLConnection(_ServerConnection):
    type_key = "mysql"

    driver: str = ""
    ssl_ca_path: ConfigPath = ""
    ssl_cert_path: ConfigPath = ""
    ssl_key_path: SecretFile = ""


class MsSQLConnection(_ServerConnection):
    type_key = "mssql"

    options: str = ""


class SnowflakeConnection(Connection):
    """Injected as a map with sorted keys, the private key file's contents inlined (reference §4.3).

    `host`, `port` and `protocol` are pybruin's (upstream always connects to the account's host): where to
    reach Snowflake instead, such as a private endpoint or a local stand-in. Unset, they are not injected.
    """

    type_key = "snowflake"
    json_always = frozenset(
        {"account", "username", "password", "region", "role", "database", "schema_", "warehouse",
         "private_key", "token"}
    )  # fmt: skip

    account: str = ""
    username: str = ""
    password: Secret = ""
    region: str = ""
    role: str = ""
    database: str = ""
    schema_: SchemaName = ""
    warehouse: str = ""
    private_key_path: SecretFile = ""
    private_key: Secret = ""
    token: Secret = ""
    host: str = ""
    port: int = 0
    protocol: str = ""

    def _repr_items(self) -> Iterator[tuple[str, object]]:
        endpoint = {"host", "port", "protocol"}
        return ((name, value) for name, value in super()._repr_items() if name not in endpoint or value)

    def _injection_payload(self) -> dict[str, object]:
        fields = payload(self, self.json_always)
        fields.pop("private_key_path", None)
        if not self.private_key and self.private_key_path:
            fields["private_key"] = read_for_injection(self.name, "private_key_path", self.private_key_path)
        return _hand_built_map(fields)


class GoogleCloudPlatformConnection(Connection):
    """Injected as a map with sorted keys and the service account file's contents inlined."""

    type_key = "google_cloud_platform"
    json_always = frozenset(
        {"service_account_json", "service_account_file", "project_id", "location",
         "use_application_default_credentials"}
    )  # fmt: skip

    service_account_json: Secret = ""
    service_account_file: SecretFile = ""
    access_token: Secret = ""
    project_id: str = ""
    location: str = ""
    use_application_default_credentials: bool = False
    max_billable_bytes: int = 0
    max_query_cost: float = 0
    max_billable_bytes_soft: int = 0
    max_query_cost_soft: float = 0

    def _injection_payload(self) -> dict[str, object]:
        fields = payload(self, self.json_always)
        if not self.service_account_json and self.service_account_file:
            fields["service_account_json"] = read_for_injection(
                self.name, "service_account_file", self.service_account_file
            )
        fields["use_application_default_credentials"] = str(self.use_application_default_credentials).lower()
        return _hand_built_map(fields)


class DatabricksConnection(Connection):
    type_key = "databricks"
    json_always = frozenset({"token", "path", "host", "port", "catalog", "schema_"})

    token: Secret = ""
    path: str = ""
    host: str = ""
    port: int = 0
    catalog: str = ""
    schema_: SchemaName = ""
    client_id: str = ""
    client_secret: Secret = ""


class LakehouseCatalogAuth(Model):
    access_key: Secret = ""
    secret_key: Secret = ""
    session_token: Secret = ""
    username: str = ""
    password: Secret = ""


class LakehouseCatalog(Model):
    type: Literal["glue", "postgres", "duckdb", "sqlite"]
    catalog_id: str = ""
    region: str = ""
    path: str = ""
    host: str = ""
    port: int = 0
    database: str = ""
    auth: LakehouseCatalogAuth | None = None


class LakehouseStorageAuth(Model):
    access_key: Secret = ""
    secret_key: Secret = ""
    session_token: Secret = ""
    connection_string: Secret = ""
    account_name: str = ""


class LakehouseStorage(Model):
    type: Literal["s3", "gcs", "azure"]
    path: str = ""
    region: str = ""
    endpoint: str = ""
    url_style: str = ""
    use_ssl: bool = False
    auth: LakehouseStorageAuth | None = None


class Lakehouse(Model):
    """DuckDB's attached Iceberg or DuckLake catalog and its storage."""

    format: Literal["iceberg", "ducklake"]
    catalog: LakehouseCatalog | None = None
    storage: LakehouseStorage | None = None


class DuckDBConnection(Connection):
    type_key = "duckdb"
    json_always = frozenset({"path"})

    path: ConfigPath = ""
    read_only: bool = False
    lakehouse: Lakehouse | None = None


class SQLiteConnection(Connection):
    type_key = "sqlite"
    json_always = frozenset({"path"})

    path: ConfigPath = ""


class ClickHouseConnection(_ServerConnection):
    type_key = "clickhouse"

    http_port: int = 0
    secure: int | None = None


class AwsConnection(Connection):
    type_key = "aws"
    json_always = frozenset({"access_key", "secret_key", "region"})

    access_key: Secret = ""
    secret_key: Secret = ""
    region: str = ""


class AthenaConnection(Connection):
    type_key = "athena"
    json_always = frozenset({"access_key_id", "secret_access_key", "session_token", "query_results_path", "region"})

    access_key_id: Secret = ""
    secret_access_key: Secret = ""
    session_token: Secret = ""
    query_results_path: str = ""
    region: str = ""
    database: str = ""
    profile: str = ""


class MotherDuckConnection(Connection):
    type_key = "motherduck"
    json_always = frozenset({"token"})

    token: Secret = ""
    database: str = ""


def _hand_built_map(fields: dict[str, object]) -> dict[str, object]:
    """Upstream builds Snowflake's and GCP's JSON as maps: sorted keys, and no ``max_concurrent_assets``."""
    fields.pop("max_concurrent_assets", None)
    return dict(sorted(fields.items()))
