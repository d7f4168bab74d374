import json
from pathlib import Path

import pytest

from pybruin.config.connections import (
    CONNECTION_TYPES,
    KNOWN_TYPE_KEYS,
    Connection,
    ConnectionConfigError,
    UntypedConnection,
    build_connection,
)
from pybruin.errors import BruinError

CANARY = "canary-7f3a9c-do-not-print"


def build(type_key: str, base_dir: Path | None = None, environ: dict | None = None, **fields) -> Connection:
    return build_connection(type_key, fields, base_dir=base_dir, environ=environ or {})


def compact(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def test_type_registry() -> None:
    assert len(KNOWN_TYPE_KEYS) == 147
    assert set(CONNECTION_TYPES) == {
        "generic", "postgres", "redshift", "mysql", "mssql", "snowflake", "google_cloud_platform",
        "databricks", "duckdb", "sqlite", "clickhouse", "aws", "athena", "motherduck",
    }  # fmt: skip
    assert set(CONNECTION_TYPES) <= KNOWN_TYPE_KEYS
    assert all(model.type_key == key for key, model in CONNECTION_TYPES.items())


def test_generic_injects_the_raw_value() -> None:
    connection = build("generic", name="KEY1", value='{"not": "json-encoded again"}')

    assert connection.injection_value() == '{"not": "json-encoded again"}'
    assert connection.type_key == "generic"


def test_postgres_injection_matches_upstream_json() -> None:
    connection = build("postgres", name="pg", username="u", password="p", host="h", port=5432, database="d")

    assert connection.injection_value() == (
        '{"name":"pg","username":"u","password":"p","host":"h","port":5432,"database":"d"}'
    )


def test_postgres_optional_fields_and_max_concurrent_assets() -> None:
    connection = build("postgres", name="pg", max_concurrent_assets=2, schema="s", pool_max_conns=4, ssl_mode="require")

    assert connection.injection_value() == (
        '{"name":"pg","max_concurrent_assets":2,"username":"","password":"","host":"","port":0,'
        '"database":"","schema":"s","pool_max_conns":4,"ssl_mode":"require"}'
    )


def test_redshift_mssql_clickhouse_aws_athena_motherduck_databricks_injection() -> None:
    assert build("redshift", name="rs", port=5439).injection_value() == (
        '{"name":"rs","username":"","password":"","host":"","port":5439,"database":"","schema":""}'
    )
    assert build("mssql", name="ms", host="h", options="encrypt=true").injection_value() == (
        '{"name":"ms","username":"","password":"","host":"h","port":0,"database":"","options":"encrypt=true"}'
    )
    assert build("clickhouse", name="ch", port=9000, secure=0).injection_value() == (
        '{"name":"ch","username":"","password":"","host":"","port":9000,"database":"","secure":0}'
    )
    assert build("aws", name="aws", access_key="AK", secret_key="SK", region="eu").injection_value() == (
        '{"name":"aws","access_key":"AK","secret_key":"SK","region":"eu"}'
    )
    assert build("athena", name="at", query_results_path="s3://b/q", database="db").injection_value() == (
        '{"name":"at","access_key_id":"","secret_access_key":"","session_token":"",'
        '"query_results_path":"s3://b/q","region":"","database":"db"}'
    )
    assert build("motherduck", name="md", token="t").injection_value() == '{"name":"md","token":"t"}'
    assert build("databricks", name="db", host="h", port=443, client_id="c").injection_value() == (
        '{"name":"db","token":"","path":"","host":"h","port":443,"catalog":"","schema":"","client_id":"c"}'
    )


def test_mysql_ssl_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    connection = build("mysql", tmp_path, name="my", ssl_ca_path="certs/ca.pem", ssl_key_path="/abs/key.pem")

    assert json.loads(connection.injection_value())["ssl_ca_path"] == str(tmp_path / "certs" / "ca.pem")
    assert json.loads(connection.injection_value())["ssl_key_path"] == "/abs/key.pem"


def test_duckdb_and_sqlite_paths(tmp_path: Path) -> None:
    duckdb = build("duckdb", tmp_path, name="duckdb-default", path="duckdb-files/duckdb.db")
    sqlite = build("sqlite", tmp_path, name="lite", path="../other/x.sqlite")
    memory = build("duckdb", tmp_path, name="mem", path=":memory:")
    untouched = build("duckdb", None, name="backend", path="relative.db")

    assert duckdb.injection_value() == compact(
        {"name": "duckdb-default", "path": str(tmp_path / "duckdb-files" / "duckdb.db")}
    )
    assert sqlite.injection_value() == compact({"name": "lite", "path": str(tmp_path.parent / "other/x.sqlite")})
    assert json.loads(memory.injection_value())["path"] == ":memory:"
    assert json.loads(untouched.injection_value())["path"] == "relative.db"


def test_duckdb_lakehouse_is_nested_and_expanded() -> None:
    connection = build(
        "duckdb",
        None,
        {"PGHOST": "pg.internal", "PGPORT": "5433"},
        name="lake",
        path="/data/x.db",
        read_only=True,
        lakehouse={
            "format": "ducklake",
            "catalog": {"type": "postgres", "host": "${PGHOST}", "port": "${PGPORT}",
                        "auth": {"username": "u", "password": "${UNSET_PW}"}},
            "storage": {"type": "s3", "path": "s3://bucket/", "auth": {"access_key": "AK", "secret_key": CANARY}},
        },
    )  # fmt: skip

    assert connection.injection_value() == compact(
        {
            "name": "lake",
            "path": "/data/x.db",
            "read_only": True,
            "lakehouse": {
                "format": "ducklake",
                "catalog": {"type": "postgres", "host": "pg.internal", "port": 5433, "auth": {"username": "u"}},
                "storage": {"type": "s3", "path": "s3://bucket/", "auth": {"access_key": "AK", "secret_key": CANARY}},
            },
        }
    )
    assert connection.sensitive_values() == ["AK", CANARY]


def test_snowflake_is_a_sorted_map_with_the_private_key_inlined(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "rsa.p8").write_text(f"-----BEGIN-----\n{CANARY}\n-----END-----\n")
    connection = build(
        "snowflake", tmp_path, name="sf", account="acc", username="u", password="p", warehouse="wh",
        private_key_path="keys/rsa.p8",
    )  # fmt: skip

    assert connection.injection_value() == compact(
        {
            "account": "acc",
            "database": "",
            "name": "sf",
            "password": "p",
            "private_key": f"-----BEGIN-----\n{CANARY}\n-----END-----\n",
            "region": "",
            "role": "",
            "schema": "",
            "token": "",
            "username": "u",
            "warehouse": "wh",
        }
    )
    secrets = connection.sensitive_values()
    assert "p" in secrets
    assert f"-----BEGIN-----\n{CANARY}\n-----END-----\n" in secrets
    assert f"-----BEGIN-----\n{CANARY}\n-----END-----" in secrets


def test_snowflake_inline_private_key_wins_over_the_file(tmp_path: Path) -> None:
    connection = build("snowflake", tmp_path, name="sf", private_key="inline", private_key_path="missing.p8")

    assert json.loads(connection.injection_value())["private_key"] == "inline"


def test_gcp_is_a_sorted_map_with_the_service_account_inlined(tmp_path: Path) -> None:
    key_document = json.dumps({"type": "service_account", "private_key": CANARY, "token_uri": "https://t/"})
    (tmp_path / "sa.json").write_text(key_document)
    connection = build(
        "google_cloud_platform", tmp_path, name="gcp", project_id="proj", service_account_file="sa.json",
        max_billable_bytes=1000,
    )  # fmt: skip

    assert connection.injection_value() == compact(
        {
            "location": "",
            "max_billable_bytes": 1000,
            "name": "gcp",
            "project_id": "proj",
            "service_account_file": str(tmp_path / "sa.json"),
            "service_account_json": key_document,
            "use_application_default_credentials": "false",
        }
    )
    assert connection.sensitive_values() == [key_document, CANARY]


def test_gcp_application_default_credentials_is_a_string() -> None:
    connection = build(
        "google_cloud_platform", name="gcp", use_application_default_credentials=True, access_token="tok"
    )

    assert json.loads(connection.injection_value()) == {
        "access_token": "tok",
        "location": "",
        "name": "gcp",
        "project_id": "",
        "service_account_file": "",
        "service_account_json": "",
        "use_application_default_credentials": "true",
    }


def test_unreadable_secret_file_fails_injection_by_path_only(tmp_path: Path) -> None:
    connection = build("google_cloud_platform", tmp_path, name="gcp", service_account_file="nope.json")

    assert connection.sensitive_values() == []
    with pytest.raises(BruinError) as caught:
        connection.injection_value()
    assert str(caught.value) == (
        f"connection 'gcp': cannot read service_account_file '{tmp_path / 'nope.json'}': No such file or directory"
    )


def test_untyped_connection_keeps_fields_in_order() -> None:
    connection = build("chess", name="chess-default", players=["FabianoCaruana", "Hikaru"])

    assert connection.injection_value() == '{"name":"chess-default","players":["FabianoCaruana","Hikaru"]}'
    assert isinstance(connection, UntypedConnection)
    assert connection.type_key == "chess"
    assert type(connection) is type(build("chess", name="other"))


def test_untyped_connection_puts_name_and_max_concurrent_assets_first() -> None:
    connection = build("hubspot", api_key="k", max_concurrent_assets=3, name="hs", extra={"a": [1, None]})

    assert connection.injection_value() == (
        '{"name":"hs","max_concurrent_assets":3,"api_key":"k","extra":{"a":[1,null]}}'
    )


def test_untyped_sensitive_values_follow_credential_looking_keys(tmp_path: Path) -> None:
    (tmp_path / "sa.json").write_text(json.dumps({"private_key": CANARY + "-file"}))
    connection = build(
        "google_sheets",
        tmp_path,
        name="sheets",
        service_account_file="sa.json",
        api_key=CANARY + "-api",
        settings={"sasl_password": CANARY + "-nested", "region": "eu", "retries": 5},
        credentials={"client": [CANARY + "-list", 12345678]},
        value=CANARY + "-value",
        token_url="https://auth.example.com/token",
        auth_type="oauth",
        players=["Hikaru"],
    )

    assert connection.sensitive_values() == [
        json.dumps({"private_key": CANARY + "-file"}),
        CANARY + "-file",
        CANARY + "-api",
        CANARY + "-nested",
        CANARY + "-list",
        "12345678",
        CANARY + "-value",
    ]
    assert json.loads(connection.injection_value())["service_account_file"] == str(tmp_path / "sa.json")


@pytest.mark.parametrize(
    ("type_key", "fields", "expected"),
    [
        ("generic", {"value": CANARY}, [CANARY]),
        ("postgres", {"password": CANARY, "username": "u"}, [CANARY]),
        ("aws", {"access_key": "AKIA", "secret_key": CANARY, "region": "eu"}, ["AKIA", CANARY]),
        ("athena", {"access_key_id": "AKIA", "secret_access_key": CANARY, "session_token": "st-val"},
         ["AKIA", CANARY, "st-val"]),
        ("databricks", {"token": CANARY, "client_secret": "cs-val", "client_id": "id"}, [CANARY, "cs-val"]),
        ("motherduck", {"token": CANARY, "database": "db"}, [CANARY]),
        ("snowflake", {"password": "pw-val", "private_key": CANARY, "token": "tk-val"}, ["pw-val", CANARY, "tk-val"]),
        ("google_cloud_platform", {"service_account_json": CANARY, "access_token": "at-val"}, [CANARY, "at-val"]),
        ("clickhouse", {"password": 12345678}, ["12345678"]),
        ("sqlite", {"path": "/tmp/x.db"}, []),
    ],
)  # fmt: skip
def test_typed_sensitive_values(type_key: str, fields: dict, expected: list[str]) -> None:
    connection = build_connection(type_key, {"name": "c", **fields}, base_dir=None, environ={})

    assert connection.sensitive_values() == expected
    assert all(secret not in repr(connection) for secret in expected)


def test_filled_fields_names_only_non_empty_fields() -> None:
    postgres = build("postgres", name="pg", host="h", port=5432, password="", schema="s")
    chess = build("chess", name="c", players=["a"], empty="")

    assert postgres.filled_fields() == ["host", "port", "schema"]
    assert chess.filled_fields() == ["players"]
    assert build("generic", name="g", value="v").filled_fields() == ["value"]


def test_stage_two_expansion_and_types() -> None:
    environ = {"PGPORT": "5433", "PW": "null", "HOST": "a:b # c"}
    connection = build(
        "postgres", None, environ, name="${NOT_EXPANDED}", host="${HOST}", port="${PGPORT}", password="${PW}",
        username="${UNSET}",
    )  # fmt: skip

    assert connection.name == "${NOT_EXPANDED}"
    assert (connection.host, connection.port, connection.password, connection.username) == (
        "a:b # c", 5433, "null", ""
    )  # fmt: skip


def test_untyped_stage_two_expansion_is_recursive() -> None:
    connection = build("kafka", None, {"A": "x"}, name="k", servers=["${A}", {"deep": "${B}"}])

    assert connection.injection_value() == '{"name":"k","servers":["x",{"deep":""}]}'


def test_yaml_numbers_and_nulls_are_accepted() -> None:
    connection = build("postgres", name=123, password=987654, host=None)

    assert (connection.name, connection.password, connection.host) == ("123", "987654", "")


def test_validation_error_names_field_but_never_the_value() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build("postgres", name="pg", port=CANARY)

    message = str(caught.value)
    assert message == (
        "connection 'pg' (postgres): field 'port': "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_nested_validation_error_names_the_nested_field() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build("duckdb", name="d", lakehouse={"format": CANARY})

    assert str(caught.value) == (
        "connection 'd' (duckdb): field 'lakehouse.format': Input should be 'iceberg' or 'ducklake'"
    )


def test_secret_of_the_wrong_type_is_not_echoed() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build("generic", name="g", value={"nested": CANARY})

    assert CANARY not in str(caught.value)
    assert "field 'value'" in str(caught.value)


@pytest.mark.parametrize("bad", [0, -1])
def test_max_concurrent_assets_must_be_positive(bad: int) -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build("chess", name="c", max_concurrent_assets=bad)

    assert str(caught.value) == "connection 'c' (chess): field 'max_concurrent_assets': Input should be greater than 0"


def test_unknown_type_key() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build("nosuchdb", name="x")

    assert str(caught.value) == "unknown connection type 'nosuchdb'"


def test_missing_name_is_reported() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        build("postgres", host="h")

    assert str(caught.value) == "connection '' (postgres): field 'name': Field required"


@pytest.mark.parametrize("type_key", ["snowflake", "google_cloud_platform"])
def test_hand_built_maps_leave_out_max_concurrent_assets(type_key: str) -> None:
    payload = json.loads(build(type_key, name="c", max_concurrent_assets=2).injection_value())

    assert "max_concurrent_assets" not in payload
    assert list(payload) == sorted(payload)
