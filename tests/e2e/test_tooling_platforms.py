"""`bruin query` and `bruin render` on MySQL, Snowflake and BigQuery (MariaDB, fakesnow, the local-bigquery
emulator), through the platform interface as on DuckDB and PostgreSQL: every mode and output form, the
dry run, masking; and `connections list -o json` / `internal connections` / the extension's edit sequence
for their connection types."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
import yaml

from fixtures.bigquery_emulator import PROJECT, service_account_info

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CANARY = f"canary-{uuid.uuid4().hex[:8]}-platforms"
PASSWORD = f"pw-tooling-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Warehouse:
    """One platform as these tests use it: its connection type and asset type, the table the tests create
    (as SQL names it), and what its result types are called."""

    type_key: str
    asset_type: str
    table: str
    #: the column names as the database returns them, and their types
    columns: list[dict[str, str]]
    details: dict[str, object]

    @property
    def secret(self) -> str:
        if "password" in self.details:
            return str(self.details["password"])
        return service_account_info()["private_key"].splitlines()[2]


@pytest.fixture(params=["mysql", "snowflake", "bigquery"])
def warehouse(request: pytest.FixtureRequest, project) -> Warehouse:
    if request.param == "mysql":
        db = request.getfixturevalue("mysql_database")("bruin_tooling", PASSWORD)
        columns = [{"name": "id", "type": "INT"}, {"name": "name", "type": "VARCHAR"}]
        found = Warehouse("mysql", "my.sql", "items", columns, db.details())
    elif request.param == "snowflake":
        sf = request.getfixturevalue("snowflake_database")()
        columns = [{"name": "ID", "type": "FIXED"}, {"name": "NAME", "type": "TEXT"}]
        found = Warehouse("snowflake", "sf.sql", "public.items", columns, sf.details(password=PASSWORD))
    else:
        dataset = request.getfixturevalue("bigquery_dataset")()
        details = {"project_id": PROJECT, "service_account_json": json.dumps(service_account_info())}
        found = Warehouse("google_cloud_platform", "bq.sql", f"{dataset.name}.items",
                          [{"name": "id", "type": "INTEGER"}, {"name": "name", "type": "STRING"}], details)  # fmt: skip
    config = {"environments": {"default": {"connections": {
        found.type_key: [{"name": "wh", **found.details}], "generic": [{"name": "TOKEN", "value": CANARY}],
    }}}}  # fmt: skip
    project.write(".bruin.yml", json.dumps(config))
    create = f"CREATE TABLE {found.table} AS SELECT 1 AS id, 'a' AS name UNION ALL SELECT 2, 'b'"
    created = project.bruin("query", "-c", "wh", "-q", create)
    assert created.returncode == 0, created.output
    project.write("p/pipeline.yml", "name: p\nvariables:\n  floor: {type: integer, default: 0}\n")
    project.write(
        "p/assets/items.sql",
        f"/* @bruin\nname: {found.table.replace('items', 'copy')}\ntype: {found.asset_type}\nconnection: wh\n"
        "materialization:\n  type: table\n@bruin */\n"
        f"SELECT id, name, '{{{{ start_date }}}}' AS day FROM {found.table} "
        "WHERE id > {{ var.floor }} ORDER BY id\n",
    )
    return found


def query(project, warehouse: Warehouse, *args: str):
    result = project.bruin("query", *args)
    assert CANARY not in result.output and warehouse.secret not in result.output
    return result


def answer(result) -> dict:
    assert result.returncode == 0, result.output
    return json.loads(result.stdout)


def test_direct_mode_in_every_form(project, warehouse):
    select = f"SELECT id, name FROM {warehouse.table} ORDER BY id"
    document = answer(query(project, warehouse, "-c", "wh", "-q", select, "-o", "json"))
    assert document == {"columns": warehouse.columns, "rows": [[1, "a"], [2, "b"]], "connectionName": "wh",
                        "query": select}  # fmt: skip
    names = [column["name"] for column in warehouse.columns]
    csv = query(project, warehouse, "-c", "wh", "-q", select, "-o", "csv")
    assert csv.stdout == f"{names[0]},{names[1]}\n1,a\n2,b\n"
    plain = query(project, warehouse, "-c", "wh", "-q", select)
    assert plain.returncode == 0 and "│ 1  │ a    │\n│ 2  │ b    │\n" in plain.stdout, plain.stdout
    limited = answer(query(project, warehouse, "-c", "wh", "-q", select, "--limit", "1", "-o", "json"))
    assert limited["rows"] == [[1, "a"]] and limited["query"].endswith("LIMIT 1")


def test_asset_and_auto_detect_modes(project, warehouse):
    asset = ("--asset", "p/assets/items.sql")
    on_asset = answer(query(project, warehouse, *asset, "--start-date", "2024-01-15", "-o", "json"))
    assert on_asset["connectionName"] == "wh"
    assert on_asset["rows"] == [[1, "a", "2024-01-15"], [2, "b", "2024-01-15"]]
    detected = answer(query(project, warehouse, *asset, "-q", f"SELECT count(*) AS n FROM {warehouse.table}",
                            "-o", "json"))  # fmt: skip
    assert detected["rows"] == [[2]]


def test_export_dry_run_masking_and_errors(project, warehouse):
    exported = answer(query(project, warehouse, "-export", "-q", f"SELECT id FROM {warehouse.table} ORDER BY id",
                            "-connection", "wh", "-o", "json"))  # fmt: skip
    [(_, path)] = exported.items()
    with open(path) as file:
        assert file.read().splitlines()[1:] == ["1", "2"]

    if warehouse.type_key != "snowflake":  # fakesnow answers EXPLAIN with HTTP 500, which the connector retries
        dry = answer(query(project, warehouse, "--dry-run", "-c", "wh", "-q", f"SELECT id FROM {warehouse.table}",
                           "-o", "json"))  # fmt: skip
        assert (dry["connectionName"], dry["connectionType"], dry["valid"]) == ("wh", warehouse.type_key, True)
        if warehouse.type_key == "google_cloud_platform":
            assert dry["statementType"] == "SELECT" and dry["schema"] == [warehouse.columns[0]]
            assert dry["referencedTables"] == [f"{PROJECT}.{warehouse.table}"] and "explainPlan" not in dry
        else:
            assert dry["explainColumns"] and dry["explainPlan"]
        plain = project.bruin("query", "--dry-run", "-c", "wh", "-q", f"SELECT id FROM {warehouse.table}")
        assert plain.stdout.startswith(f"Dry Run Results\nConnection:  wh ({warehouse.type_key})\nValid:       Yes\n")

    leaked = answer(query(project, warehouse, "-c", "wh", "-q", f"SELECT '{CANARY}' AS leaked", "-o", "json"))
    assert leaked["rows"] == [["****"]]
    missing = query(project, warehouse, "-c", "wh", "-q", "SELECT * FROM nowhere_at_all", "-o", "json")
    assert (missing.returncode, missing.stderr) == (1, "")
    assert json.loads(missing.stdout)["error"].startswith("query execution failed: ")


def test_render_is_what_the_run_builds(project, warehouse):
    rendered = answer(project.bruin("render", "-o", "json", "--start-date", "2024-01-15", "--var", "floor=1",
                                    "p/assets/items.sql"))["query"]  # fmt: skip
    body = f"SELECT id, name, '2024-01-15' AS day FROM {warehouse.table} WHERE id > 1 ORDER BY id"
    assert body in rendered
    raw = project.bruin("render", "--raw-query", "--var", "floor=1", "--start-date", "2024-01-15",
                        "p/assets/items.sql")  # fmt: skip
    assert raw.stdout.strip() == body
    ran = project.bruin("run", "--start-date", "2024-01-15", "--var", "floor=1", "p/assets/items.sql")
    assert ran.returncode == 0, ran.output
    copy = warehouse.table.replace("items", "copy")
    built = answer(project.bruin("query", "-c", "wh", "-q", f"SELECT * FROM {copy}", "-o", "json"))
    assert built["rows"] == [[2, "b", "2024-01-15"]]


# --- their connection types in the tooling's config surface ---------------------------------------------------

KEY = f"-----BEGIN PRIVATE KEY-----\n{CANARY}-key\n-----END PRIVATE KEY-----\n"
CONNECTIONS = {
    "mysql": ({"username": "app", "password": f"{CANARY}-my", "host": "db", "port": 3306, "database": "shop",
               "ssl_ca_path": "ca.pem"}, {"password"}),
    "snowflake": ({"account": "acme", "username": "loader", "private_key": KEY, "warehouse": "wh", "host": "sf.local",
                   "port": 8443, "protocol": "https"}, {"private_key"}),
    "google_cloud_platform": ({"project_id": "p", "service_account_json": json.dumps({"private_key": KEY}),
                               "location": "EU", "max_billable_bytes": 1000}, {"service_account_json"}),
}  # fmt: skip


@pytest.mark.parametrize("type_key", sorted(CONNECTIONS))
def test_listing_schema_and_the_extensions_edit_sequence(project, type_key):
    """`connections list -o json` masks their credentials and shows the rest as written; `internal connections`
    describes them for the connection form; deleting and re-adding with the fields the list showed (the
    extension's edit) changes what was edited and keeps the masked values."""
    fields, secret_fields = CONNECTIONS[type_key]
    config = {"environments": {"default": {"connections": {type_key: [{"name": "wh", **fields}]}}}}
    project.write(".bruin.yml", json.dumps(config))

    listed = project.bruin("connections", "list", "-o", "json")
    assert listed.returncode == 0 and CANARY not in listed.output
    [shown] = json.loads(listed.stdout)["environments"]["default"]["connections"][type_key]
    assert {key for key, value in shown.items() if value == "****"} == secret_fields
    assert {key: shown[key] for key in fields if key not in secret_fields} == {
        key: value for key, value in fields.items() if key not in secret_fields
    }
    schema = json.loads(project.bruin("internal", "connections").stdout)["$defs"]
    definition = schema[schema["Connections"]["properties"][type_key]["items"]["$ref"].split("/")[-1]]
    assert set(fields) <= set(definition["properties"]) and isinstance(definition["required"], list)

    edited = "location" if type_key == "google_cloud_platform" else "username"
    credentials = {**{key: value for key, value in shown.items() if key != "name"}, edited: "edited"}
    assert project.bruin("connections", "delete", "--env", "default", "--name", "wh").returncode == 0
    added = project.bruin("connections", "add", "--env", "default", "--type", type_key, "--name", "wh",
                          "--credentials", json.dumps(credentials), "-o", "json")  # fmt: skip
    assert (added.returncode, added.stdout, added.stderr) == (0, "", "")
    [saved] = yaml.safe_load((project.root / ".bruin.yml").read_text())["environments"]["default"]["connections"][
        type_key
    ]
    assert {key: saved.get(key) for key in fields} == {**fields, edited: "edited"}
    assert CANARY not in project.bruin("connections", "list", "-o", "json").output
