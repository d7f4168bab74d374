"""The catalogue of connection types: every type key upstream accepts, and the ones with a model.

A ``.bruin.yml`` or a secret names its connection's type by key. The typed models say what their
fields are; the other known keys load as untyped connections; any other key is an error. The
question "which of these fields, as written, are credentials?" is answered per type key too.
"""

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from pybruin.config.connections.base import Connection, Model
from pybruin.config.connections.credentials import guessed_credentials, names_connection_credential
from pybruin.config.connections.fields import Role
from pybruin.config.connections.models import (
    AthenaConnection,
    AwsConnection,
    ClickHouseConnection,
    DatabricksConnection,
    DuckDBConnection,
    GenericConnection,
    GoogleCloudPlatformConnection,
    MotherDuckConnection,
    MsSQLConnection,
    MySQLConnection,
    PostgresConnection,
    RedshiftConnection,
    SnowflakeConnection,
    SQLiteConnection,
)

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
        guessed = guessed_credentials(fields, "", names=names_connection_credential)
        yield from ((field, item) for field, item, role in guessed if role is Role.SECRET)


def _declared_credentials(
    model: type[Model], fields: Mapping[str, object], prefix: str
) -> Iterator[tuple[str, object]]:
    for field in model.declared_fields:
        value = fields.get(field.key)
        if Role.SECRET in field.roles and field.key in fields:
            yield prefix + field.key, value
        elif isinstance(value, Mapping) and issubclass(field.kind, Model):
            yield from _declared_credentials(field.kind, value, f"{prefix}{field.key}.")
