from pybruin.config.connections import CONNECTION_TYPES
from pybruin.config.connections.schema import connection_json_schema, connection_json_schemas


def test_one_schema_per_typed_connection_type() -> None:
    schemas = connection_json_schemas()

    assert list(schemas) == sorted(CONNECTION_TYPES)
    assert all(schema["required"][0] == "name" for schema in schemas.values())
    assert schemas["snowflake"]["title"] == "SnowflakeConnection"


def test_fields_are_listed_as_written_with_defaults_and_required_ones() -> None:
    schema = connection_json_schema("postgres")

    assert list(schema["properties"]) == [
        "name", "max_concurrent_assets", "username", "password", "host", "port", "database", "schema",
        "pool_max_conns", "ssl_mode",
    ]  # fmt: skip
    assert schema["required"] == ["name"]
    assert schema["properties"]["port"] == {"default": 0, "title": "Port", "type": "integer"}
    assert schema["properties"]["max_concurrent_assets"]["anyOf"][0] == {"exclusiveMinimum": 0, "type": "integer"}


def test_secrets_are_write_only_passwords() -> None:
    properties = connection_json_schema("snowflake")["properties"]

    secrets = {key for key, field in properties.items() if field.get("writeOnly")}
    assert secrets == {"password", "private_key", "token"}
    assert all(properties[key]["format"] == "password" for key in secrets)
    assert "private_key_path" not in secrets
    assert "credential" in properties["private_key_path"]["description"]


def test_nested_models_are_definitions_with_their_own_requirements() -> None:
    schema = connection_json_schema("duckdb")
    definitions = schema["$defs"]

    assert schema["properties"]["lakehouse"]["anyOf"][0] == {"$ref": "#/$defs/Lakehouse"}
    assert definitions["Lakehouse"]["required"] == ["format"]
    assert definitions["Lakehouse"]["properties"]["format"]["enum"] == ["iceberg", "ducklake"]
    assert definitions["LakehouseCatalog"]["properties"]["type"]["enum"] == ["glue", "postgres", "duckdb", "sqlite"]
    assert definitions["LakehouseStorageAuth"]["properties"]["secret_key"]["writeOnly"] is True
    assert "relative to the config file" in schema["properties"]["path"]["description"]
