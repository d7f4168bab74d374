"""MySQL, Snowflake and BigQuery without a server: names, quoting, strategies, scrubbing, driver arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.materialization import Materialization
from pybruin.platforms import ansi, bigquery, mysql, platform_for_asset_type, platform_for_connection, snowflake
from pybruin.platforms.base import Build
from pybruin.platforms.bigquery import BigQueryPlatform
from pybruin.platforms.mysql import MySQLPlatform
from pybruin.platforms.snowflake import SnowflakePlatform


def connection(type_key: str, **fields: object) -> Connection:
    return build_connection(type_key, {"name": "conn", **fields}, base_dir=None, environ={})


def test_the_new_platforms_import_no_driver_until_a_database_opens() -> None:
    code = """
import sys
import pybruin.platforms as registry
for asset_type in ("my.sql", "sf.sql", "bq.sql"):
    registry.platform_for_asset_type(asset_type).strategy({"type": "table"})
drivers = ("pymysql", "snowflake.connector", "google.cloud.bigquery", "cryptography")
print(sorted(m for m in drivers if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("asset_type", "type_key", "platform_type"),
    [("my.sql", "mysql", MySQLPlatform), ("sf.sql", "snowflake", SnowflakePlatform),
     ("bq.sql", "google_cloud_platform", BigQueryPlatform)],
)  # fmt: skip
def test_lookups(asset_type: str, type_key: str, platform_type: type) -> None:
    assert type(platform_for_asset_type(asset_type)) is platform_type
    assert platform_for_connection(type_key) is platform_for_asset_type(asset_type)


MYSQL = connection("mysql", host="db", database="shop")
SNOWFLAKE = connection("snowflake", account="acme", database="ANALYTICS")
BIGQUERY = connection("google_cloud_platform", project_id="acme-data")


@pytest.mark.parametrize(
    ("platform", "conn", "asset_name", "prefix", "parts", "qualified"),
    [
        (MySQLPlatform(), MYSQL, "users", "", ("shop", "users"), "shop.users"),
        (MySQLPlatform(), MYSQL, "marts.users", "dev_", ("dev_marts", "users"), "dev_marts.users"),
        (MySQLPlatform(), MYSQL, "raw-data.daily users", "", ("raw-data", "daily users"), "`raw-data`.`daily users`"),
        (MySQLPlatform(), MYSQL, "we`ird.1", "", ("we`ird", "1"), "`we``ird`.`1`"),
        (SnowflakePlatform(), SNOWFLAKE, "users", "dev_", ("dev_PUBLIC", "users"), "dev_PUBLIC.users"),
        (SnowflakePlatform(), connection("snowflake", account="a", schema="raw"), "t", "", ("raw", "t"), "raw.t"),
        (SnowflakePlatform(), SNOWFLAKE, "DB.Raw Data.t", "", ("DB", "Raw Data", "t"), 'DB."Raw Data".t'),
        (BigQueryPlatform(), BIGQUERY, "marts.users", "dev_", ("dev_marts", "users"), "dev_marts.users"),
        (BigQueryPlatform(), BIGQUERY, "acme-data.marts.users", "", ("acme-data", "marts", "users"),
         "`acme-data`.marts.users"),
        (BigQueryPlatform(), BIGQUERY, "p.d.we`ird", "", ("p", "d", "we`ird"), "p.d.`we\\`ird`"),
    ],
)  # fmt: skip
def test_targets(platform, conn, asset_name: str, prefix: str, parts: tuple, qualified: str) -> None:
    target = platform.target(asset_name, conn, prefix)

    assert target.parts == parts
    assert target.qualified == qualified


@pytest.mark.parametrize(
    ("platform", "conn", "asset_name", "message"),
    [
        (MySQLPlatform(), MYSQL, "a.b.c", "the asset name must be table or database.table to materialize on MySQL"),
        (MySQLPlatform(), connection("mysql", host="db"), "users",
         "mysql connection 'conn' sets no database, so the asset name must be database.table"),
        (BigQueryPlatform(), BIGQUERY, "users",
         "the asset name must be dataset.table or project.dataset.table to materialize on BigQuery"),
    ],
)  # fmt: skip
def test_names_each_platform_cannot_materialize(platform, conn, asset_name: str, message: str) -> None:
    with pytest.raises(BruinError) as caught:
        platform.target(asset_name, conn, "")
    assert str(caught.value) == message


EVERY_STRATEGY = ("create+replace, append, delete+insert, truncate+insert, time_interval, merge, ddl, scd2_by_column "
                  "or scd2_by_time")


@pytest.mark.parametrize(
    ("platform", "advice"),
    [(MySQLPlatform(), EVERY_STRATEGY), (BigQueryPlatform(), EVERY_STRATEGY), (SnowflakePlatform(), EVERY_STRATEGY)],
    ids=lambda p: getattr(p, "name", ""),
)  # fmt: skip
def test_strategies(platform, advice: str) -> None:
    table = platform.strategy({"type": "table"})

    assert platform.strategy({}) is None
    assert platform.strategy({"type": "table", "strategy": "create+replace"}) is table
    assert platform.strategy({"type": "table", "strategy": "append"}) is ansi.append_to_table
    assert platform.strategy({"type": "view"}) is ansi.create_view
    assert platform.rebuilds["append"] is table  # an append whose table is missing builds it
    with pytest.raises(BruinError) as caught:
        platform.strategy({"type": "table", "strategy": "datavault_hub"})
    assert str(caught.value) == f"materialization strategy 'datavault_hub' is not supported; use {advice}"


@pytest.mark.parametrize(
    ("platform", "module"), [(MySQLPlatform(), mysql), (SnowflakePlatform(), snowflake), (BigQueryPlatform(), bigquery)]
)
def test_which_table_replacement_each_platform_uses(platform, module) -> None:
    assert platform.strategy({"type": "table"}) is module.replace_table


def test_the_mysql_swap_renames_both_names_in_one_statement() -> None:
    build = Build(target=MySQLPlatform().target("users", MYSQL, ""), query="select 1 as id;",
                  materialization=Materialization.of({"type": "table"}))  # fmt: skip
    lines = mysql.replace_table(build).split(";\n")

    assert lines[0].startswith("CREATE TABLE shop.`__pybruin_tmp_") and lines[0].endswith(" AS\nselect 1 as id")
    assert lines[1].startswith("CREATE TABLE IF NOT EXISTS shop.users LIKE shop.`__pybruin_tmp_")
    assert lines[2].startswith("RENAME TABLE shop.users TO shop.`__pybruin_old_")
    assert lines[2].endswith(" TO shop.users")
    assert lines[3].startswith("DROP TABLE shop.`__pybruin_old_")


def test_mysql_keeps_its_own_using_password_phrase() -> None:
    conn = connection("mysql", host="db", password="hunter2-canary")
    message = "Access denied for user 'ann'@'10.0.0.1' (using password: YES) password=hunter2-canary"

    assert MySQLPlatform().scrub(message, conn) == (
        "Access denied for user 'ann'@'10.0.0.1' (using password: YES) password=****"
    )


@pytest.mark.parametrize("how", ["json", "file"])
def test_bigquery_masks_the_service_account_identity(how: str, tmp_path: Path) -> None:
    key = {"type": "service_account", "client_email": "loader@acme.iam.gserviceaccount.com",
           "private_key_id": "0123456789abcdef", "private_key": "-----BEGIN PRIVATE KEY-----"}  # fmt: skip
    if how == "json":
        conn = connection("google_cloud_platform", service_account_json=json.dumps(key))
    else:
        (tmp_path / "sa.json").write_text(json.dumps(key))
        conn = connection("google_cloud_platform", service_account_file=str(tmp_path / "sa.json"))
    message = "Access Denied: User loader@acme.iam.gserviceaccount.com (key 0123456789abcdef) lacks jobs.create"

    assert BigQueryPlatform().scrub(message, conn) == "Access Denied: User **** (key ****) lacks jobs.create"


def test_snowflake_arguments_follow_upstreams_choice_of_authentication() -> None:
    by_password = snowflake._connect_arguments(connection(
        "snowflake", account="acme", username="ann", password="pw", region="eu-west-1", role="loader",
        warehouse="wh", database="db", schema="raw",
    ))  # fmt: skip
    by_token = snowflake._connect_arguments(connection("snowflake", account="acme", password="pw", token="tok"))
    elsewhere = snowflake._connect_arguments(connection("snowflake", account="acme", host="sf.internal"))

    assert {key: by_password[key] for key in ("account", "user", "password", "region", "role", "warehouse",
                                              "database", "schema")} == {
        "account": "acme", "user": "ann", "password": "pw", "region": "eu-west-1", "role": "loader",
        "warehouse": "wh", "database": "db", "schema": "raw",
    }  # fmt: skip
    assert "authenticator" not in by_password
    assert (by_token["authenticator"], by_token["token"], "password" in by_token) == ("oauth", "tok", False)
    assert (elsewhere["host"], elsewhere["port"], elsewhere["protocol"]) == ("sf.internal", 443, "https")
    assert "host" not in by_password


def test_snowflakes_endpoint_fields_are_injected_only_when_set() -> None:
    plain = connection("snowflake", account="acme")
    elsewhere = connection("snowflake", account="acme", host="127.0.0.1", port=8080, protocol="http")

    assert "host" not in json.loads(plain.injection_value())
    assert "host=" not in repr(plain)
    assert {key: json.loads(elsewhere.injection_value())[key] for key in ("host", "port", "protocol")} == {
        "host": "127.0.0.1", "port": 8080, "protocol": "http",
    }  # fmt: skip


def test_a_missing_driver_is_a_clear_error() -> None:
    code = """
import sys
sys.modules["pymysql"] = None
from pybruin.config.connections import build_connection
from pybruin.errors import BruinError
from pybruin.platforms.mysql import MySQLPlatform
try:
    MySQLPlatform().open(build_connection("mysql", {"name": "c"}, base_dir=None, environ={}))
except BruinError as exc:
    print(exc)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == (
        "the Python package 'PyMySQL' is not installed; install it with pip install 'pybruin[mysql]'"
    )
