"""Connections: the typed models behind ``.bruin.yml`` entries and secrets-backend payloads.

A connection knows three things the rest of pybruin needs: the value an asset receives for it
(``injection_value``), the strings that must never appear in output (``sensitive_values``), and
which of its fields are filled in (``filled_fields``, for listings that must not show values).
Field roles (secret, secret file, config-relative path) are declared once, as field metadata, and
everything else is derived from them.
"""

# No `from __future__ import annotations` here: pydantic would then compile every field's annotation
# from its text each time this module is imported, which is on every run.
import enum
import functools
import json
import os
import re
from collections.abc import Container, Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pybruin.config.expand import expand_unset_to_empty
from pybruin.errors import BruinError

#: Every connection type key upstream Bruin accepts under ``connections:`` (reference §6), in the order of
#: upstream's ``Connections`` struct, which is the order its JSON listings use.
TYPE_KEYS: tuple[str, ...] = (
        "aws", "athena", "google_cloud_platform", "snowflake", "postgres", "redshift", "mssql", "databricks",
        "adls", "synapse", "fabric", "onelake", "mongo", "cassandra", "couchbase", "cratedb", "csv", "cursor",
        "mongo_atlas", "mysql", "doris", "vitess", "planetscale_mysql", "notion", "allium", "hana", "hostaway",
        "http", "shopify", "gorgias", "g2", "klaviyo", "adjust", "adapty", "anthropic", "generic",
        "facebookads", "stripe", "paddle", "chargebee", "recurly", "gitlab", "appsflyer", "kafka", "rabbitmq",
        "duckdb", "motherduck", "clickhouse", "hubspot", "intercom", "github", "google_sheets", "chess",
        "airtable", "granola", "zendesk", "kalshi", "tiktokads", "snapchatads", "s3", "slack", "socrata",
        "asana", "dynamodb", "docebo", "googleads", "appstore", "appleads", "linkedinads", "reddit_ads",
        "mailchimp", "manifold", "revenuecat", "linear", "gcs", "iceberg", "sharepoint", "applovinmax",
        "personio", "kinesis", "pipedrive", "polymarket", "mixpanel", "amplitude", "fastspring", "payrails",
        "clickup", "jobtread", "posthog", "pinterest", "trustpilot", "quickbooks", "wise", "wistia", "zoom",
        "emr_serverless", "dataproc_serverless", "googleanalytics", "gsc", "applovin", "frankfurter",
        "salesforce", "sqlite", "db2", "oracle", "phantombuster", "elasticsearch", "solidgate", "square",
        "spanner", "smartsheet", "attio", "sftp", "isoc_pulse", "influxdb", "tableau", "quicksight", "trino",
        "starrocks", "dremio", "sail", "spark", "fluxx", "freshdesk", "okta", "fundraiseup", "fireflies",
        "trello", "jira", "monday", "plusvibeai", "bruin", "primer", "indeed", "customerio", "clevertap",
        "sendgrid", "twilio", "braze", "espn", "apifootball", "footballdata", "balldontlie", "vertica",
        "surveymonkey", "typeform", "dune",
)  # fmt: skip
KNOWN_TYPE_KEYS: frozenset[str] = frozenset(TYPE_KEYS)


class ConnectionConfigError(BruinError):
    """A connection's fields are invalid. The message names the connection and field, never a value."""


class _Role(enum.Enum):
    SECRET = "secret"
    SECRET_FILE = "secret file"
    PATH = "config-relative path"


#: A credential: its value is masked and hidden from ``repr``.
Secret = Annotated[str, _Role.SECRET]
#: A path resolved against the config file's folder when relative.
ConfigPath = Annotated[str, _Role.PATH]
#: A path to a file whose *contents* are a credential.
SecretFile = Annotated[str, _Role.SECRET_FILE, _Role.PATH]

_SENSITIVE_ROLES = frozenset({_Role.SECRET, _Role.SECRET_FILE})

# Key fragments that mark a credential in connections without a model, compared after lowercasing
# and dropping every character that is not a letter or digit.
_CREDENTIAL_WORDS = (
    "password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "apikey", "accountkey",
    "accesskey", "privatekey", "sessionkey", "signature", "serviceaccount", "connectionstring", "dsn",
)  # fmt: skip
# Keys ending like this name something *about* a credential (where to fetch it, what kind it is).
_NOT_CREDENTIAL_SUFFIXES = ("url", "uri", "endpoint", "type")
_FILE_SUFFIXES = ("file", "path")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")


class _Model(BaseModel):
    """Shared settings: YAML numbers are fine where text is expected, unknown keys are ignored."""

    model_config = ConfigDict(coerce_numbers_to_str=True, extra="ignore", frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        """A key written without a value (``password:``) means "not set", as it does upstream."""
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value is not None}
        return data

    def __repr_args__(self) -> Iterator[tuple[str, object]]:
        for name, info in type(self).model_fields.items():
            if not _SENSITIVE_ROLES.intersection(info.metadata):
                yield name, getattr(self, name)


class Connection(_Model):
    """One named connection of one type, as an asset would receive it."""

    type_key: ClassVar[str]
    #: Fields written to the injected JSON even when empty (upstream's fields without ``omitempty``).
    json_always: ClassVar[frozenset[str]] = frozenset()

    name: str
    max_concurrent_assets: int | None = Field(default=None, gt=0)

    def injection_value(self) -> str:
        """The environment-variable value an asset gets: compact JSON of the fields (reference §4.3)."""
        return json.dumps(self._injection_payload(), separators=(",", ":"), ensure_ascii=False)

    def sensitive_values(self) -> list[str]:
        """Every non-empty credential string, nested ones and readable secret files' contents included."""
        return _unique(_model_secrets(self))

    def filled_fields(self) -> list[str]:
        """Names of the fields that hold something, so a listing can show them without values."""
        return [key for key, value in self._field_items() if key != "name" and not _is_empty(value)]

    def _injection_payload(self) -> dict[str, object]:
        return _payload(self, self.json_always)

    def _field_items(self) -> Iterator[tuple[str, object]]:
        for name, info in type(self).model_fields.items():
            yield info.alias or name, getattr(self, name)

    @classmethod
    def _relative_path_keys(cls, fields: Mapping[str, object]) -> list[str]:
        keys = (info.alias or name for name, info in cls.model_fields.items() if _Role.PATH in info.metadata)
        return [key for key in keys if key in fields]


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

    schema_: str = Field(default="", alias="schema")
    pool_max_conns: int = 0
    ssl_mode: str = ""


class RedshiftConnection(_ServerConnection):
    type_key = "redshift"
    json_always = _ServerConnection.json_always | {"schema_"}

    schema_: str = Field(default="", alias="schema")
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
    """Injected as a map with sorted keys, the private key file's contents inlined (reference §4.3)."""

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
    schema_: str = Field(default="", alias="schema")
    warehouse: str = ""
    private_key_path: SecretFile = ""
    private_key: Secret = ""
    token: Secret = ""

    def _injection_payload(self) -> dict[str, object]:
        payload = _payload(self, self.json_always)
        payload.pop("private_key_path", None)
        if not self.private_key and self.private_key_path:
            payload["private_key"] = _read_for_injection(self, "private_key_path", self.private_key_path)
        return _hand_built_map(payload)


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
        payload = _payload(self, self.json_always)
        if not self.service_account_json and self.service_account_file:
            payload["service_account_json"] = _read_for_injection(
                self, "service_account_file", self.service_account_file
            )
        payload["use_application_default_credentials"] = str(self.use_application_default_credentials).lower()
        return _hand_built_map(payload)


class DatabricksConnection(Connection):
    type_key = "databricks"
    json_always = frozenset({"token", "path", "host", "port", "catalog", "schema_"})

    token: Secret = ""
    path: str = ""
    host: str = ""
    port: int = 0
    catalog: str = ""
    schema_: str = Field(default="", alias="schema")
    client_id: str = ""
    client_secret: Secret = ""


class LakehouseCatalogAuth(_Model):
    access_key: Secret = ""
    secret_key: Secret = ""
    session_token: Secret = ""
    username: str = ""
    password: Secret = ""


class LakehouseCatalog(_Model):
    type: Literal["glue", "postgres", "duckdb", "sqlite"]
    catalog_id: str = ""
    region: str = ""
    path: str = ""
    host: str = ""
    port: int = 0
    database: str = ""
    auth: LakehouseCatalogAuth | None = None


class LakehouseStorageAuth(_Model):
    access_key: Secret = ""
    secret_key: Secret = ""
    session_token: Secret = ""
    connection_string: Secret = ""
    account_name: str = ""


class LakehouseStorage(_Model):
    type: Literal["s3", "gcs", "azure"]
    path: str = ""
    region: str = ""
    endpoint: str = ""
    url_style: str = ""
    use_ssl: bool = False
    auth: LakehouseStorageAuth | None = None


class Lakehouse(_Model):
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


class UntypedConnection(Connection):
    """A known connection type without a model here: its fields are kept exactly as written.

    Which of its values are credentials is guessed from their keys (see ``_names_credential``).
    Concrete classes, one per type key, are made on first use by ``build_connection``.
    """

    model_config = ConfigDict(extra="allow")

    def sensitive_values(self) -> list[str]:
        return _unique(_credential_strings(self.model_extra))

    def _injection_payload(self) -> dict[str, object]:
        return {**_payload(self, ()), **(self.model_extra or {})}

    def _field_items(self) -> Iterator[tuple[str, object]]:
        yield from super()._field_items()
        yield from (self.model_extra or {}).items()

    @classmethod
    def _relative_path_keys(cls, fields: Mapping[str, object]) -> list[str]:
        return [key for key in fields if _names_credential_file(key)]

    def __repr_args__(self) -> Iterator[tuple[str, object]]:
        yield "name", self.name


#: The typed models, by ``.bruin.yml`` type key. Other known keys load as untyped connections.
CONNECTION_TYPES: Mapping[str, type[Connection]] = MappingProxyType(
    {
        model.type_key: model
        for model in (
            GenericConnection, PostgresConnection, RedshiftConnection, MySQLConnection, MsSQLConnection,
            SnowflakeConnection, GoogleCloudPlatformConnection, DatabricksConnection, DuckDBConnection,
            SQLiteConnection, ClickHouseConnection, AwsConnection, AthenaConnection, MotherDuckConnection,
        )
    }
)  # fmt: skip


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
        for key in model._relative_path_keys(data):
            data[key] = _resolved_path(data[key], base_dir)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Only the first problem, and without pydantic's `input`, which would echo the value.
        problem = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    name = data.get("name")
    label = name if isinstance(name, str) else ""
    location = ".".join(str(part) for part in problem["loc"])
    reason = problem["msg"].replace("\n", " ")
    field = f"field '{location}': " if location else ""
    raise ConnectionConfigError(f"connection '{label}' ({type_key}): {field}{reason}")


def _model_for(type_key: str) -> type[Connection]:
    model = CONNECTION_TYPES.get(type_key)
    if model is not None:
        return model
    if type_key in KNOWN_TYPE_KEYS:
        return _untyped_model(type_key)
    raise ConnectionConfigError(f"unknown connection type '{type_key}'")


@functools.cache
def _untyped_model(type_key: str) -> type[UntypedConnection]:
    class_name = "".join(part.capitalize() for part in type_key.split("_")) + "Connection"
    return type(UntypedConnection)(class_name, (UntypedConnection,), {"type_key": type_key, "__module__": __name__})


def _resolved_path(value: object, base_dir: Path) -> object:
    if not isinstance(value, str) or not value or value == ":memory:" or os.path.isabs(value):
        return value
    return os.path.normpath(os.path.join(base_dir, value))


def _payload(model: BaseModel, always: Container[str]) -> dict[str, object]:
    """Fields in declaration order; those not in ``always`` only when they differ from their default."""
    payload: dict[str, object] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if name in always or value != info.default:
            payload[info.alias or name] = _payload(value, ()) if isinstance(value, BaseModel) else value
    return payload


def _hand_built_map(payload: dict[str, object]) -> dict[str, object]:
    """Upstream builds Snowflake's and GCP's JSON as maps: sorted keys, and no ``max_concurrent_assets``."""
    payload.pop("max_concurrent_assets", None)
    return dict(sorted(payload.items()))


def _is_empty(value: object) -> bool:
    return value is None or (not isinstance(value, BaseModel) and value in ("", 0, [], {}))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _read_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _read_for_injection(connection: Connection, field: str, path: str) -> str:
    try:
        return _read_text(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    raise BruinError(f"connection '{connection.name}': cannot read {field} '{path}': {reason}")


def _model_secrets(model: BaseModel) -> Iterator[str]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _model_secrets(value)
        elif not isinstance(value, str) or not value:
            continue
        elif _Role.SECRET in info.metadata:
            yield from _secret_forms(value)
        elif _Role.SECRET_FILE in info.metadata:
            yield from _secret_file_contents(value)


def _secret_forms(secret: str) -> Iterator[str]:
    """The secret, its trimmed form, and the credentials inside it when it is a JSON document.

    A service-account JSON is a secret as a whole, but the private key inside it is what a client
    library is likely to print on its own.
    """
    yield secret
    trimmed = secret.strip()
    if trimmed and trimmed != secret:
        yield trimmed
    if trimmed.startswith("{"):
        try:
            document = json.loads(trimmed)
        except ValueError:
            return
        yield from _credential_strings(document)


def _secret_file_contents(path: str) -> Iterator[str]:
    # An unreadable file cannot be injected either; the run reports that when it tries.
    try:
        contents = _read_text(path)
    except (OSError, UnicodeDecodeError):
        return
    yield from _secret_forms(contents)


def _credential_strings(value: object) -> Iterator[str]:
    """Strings (and numbers) found under credential-looking keys at any depth, and credential files' contents."""
    for _, item, role in _guessed_credentials(value, ""):
        if role is _Role.SECRET_FILE:
            if isinstance(item, str) and item:
                yield from _secret_file_contents(item)
        elif isinstance(item, str) and item:
            yield from _secret_forms(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)


def credential_fields(type_key: str, fields: Mapping[str, object]) -> Iterator[tuple[str, object]]:
    """The credentials among one connection's fields *as written*, as ``(field, value)`` pairs.

    For checks on raw config text (is a password written out rather than a ``${VAR}``?), where
    no :class:`Connection` can be built yet. Typed connections answer from their models' secret
    fields, others from their keys, exactly as ``sensitive_values`` decides; a secret *file*'s path
    is not itself a credential. Nested fields are dotted (``lakehouse.storage.auth.secret_key``).
    """
    model = CONNECTION_TYPES.get(type_key)
    if model is not None:
        yield from _declared_credentials(model, fields, "")
    elif type_key in KNOWN_TYPE_KEYS:
        yield from ((field, item) for field, item, role in _guessed_credentials(fields, "") if role is _Role.SECRET)


def _declared_credentials(
    model: type[BaseModel], fields: Mapping[str, object], prefix: str
) -> Iterator[tuple[str, object]]:
    for name, info in model.model_fields.items():
        key = info.alias or name
        value = fields.get(key)
        if _Role.SECRET in info.metadata and key in fields:
            yield prefix + key, value
        elif isinstance(value, Mapping):
            for kind in get_args(info.annotation) or (info.annotation,):  # `Lakehouse | None` or `Lakehouse`
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    yield from _declared_credentials(kind, value, f"{prefix}{key}.")


def _guessed_credentials(
    value: object, field: str, *, inside_credential: bool = False
) -> Iterator[tuple[str, object, _Role]]:
    """``(field, value, role)`` of leaves under credential-looking keys (SECRET) and of credential-file keys."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{field}.{key}" if field else str(key)
            if _names_credential_file(key):
                yield path, item, _Role.SECRET_FILE
            else:
                inside = inside_credential or _names_credential(key)
                yield from _guessed_credentials(item, path, inside_credential=inside)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _guessed_credentials(item, f"{field}[{index}]", inside_credential=inside_credential)
    elif inside_credential:
        yield field, value, _Role.SECRET


def _normalized_key(key: object) -> str:
    return _NOT_ALPHANUMERIC.sub("", str(key).lower())


def _names_credential(key: object) -> bool:
    normalized = _normalized_key(key)
    if normalized.endswith(_NOT_CREDENTIAL_SUFFIXES):
        return False
    return normalized == "value" or normalized.endswith("key") or any(word in normalized for word in _CREDENTIAL_WORDS)


def _names_credential_file(key: object) -> bool:
    """``service_account_file``, ``private_key_path``, ``key_path``: a path to a credential."""
    normalized = _normalized_key(key)
    return any(
        normalized.endswith(suffix) and _names_credential(normalized.removesuffix(suffix)) for suffix in _FILE_SUFFIXES
    )
