"""The VS Code extension's calls (bruin-vscode 0.83.2), replayed with its exact argv, checking the fields it
reads (reference `bruin-tooling-surface.md` §5.2). The extension spawns from a cwd of its own, so paths are
absolute; it reads stdout on exit 0, and stderr (else stdout) otherwise."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CANARY = "canary-0e7b55c1-extension"
SEMVER = re.compile(r"v?\d+\.\d+\.\d+")


@pytest.fixture
def workspace(project):
    project.write(
        ".bruin.yml",
        f"""
        default_environment: default
        environments:
          default:
            connections:
              duckdb:
                - name: duckdb-default
                  path: warehouse.db
              generic:
                - name: API_KEY
                  value: {CANARY}
          prod:
            connections: {{}}
        """,
    )
    project.write("p/pipeline.yml", "name: shop\nschedule: daily\n")
    project.write(
        "p/assets/orders.sql",
        "/* @bruin\nname: raw.orders\ntype: duckdb.sql\nmaterialization:\n  type: table\ncolumns:\n  - name: id\n"
        "    type: integer\n    primary_key: true\n@bruin */\nselect 1 as id\n",
    )
    project.write(
        "p/assets/report.py",
        '"""@bruin\nname: report\ndepends: [raw.orders]\nsecrets:\n  - key: API_KEY\n    inject_as: TOKEN\n@bruin"""\n'
        "print('report')\n",
    )
    project.write("p/assets/helper.py", "print('no header')\n")
    return project


def call(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    done = subprocess.run([sys.executable, "-m", "pybruin", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert CANARY not in done.stdout + done.stderr
    return done


def answer(done: subprocess.CompletedProcess[str]) -> object:
    assert done.returncode == 0, done.stderr or done.stdout
    return json.loads(done.stdout)


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """The extension host's cwd: not the project."""
    folder = tmp_path / "extension-host"
    folder.mkdir()
    return folder


def test_asset_panel_parse_asset(workspace, elsewhere):
    file = workspace.root / "p/assets/orders.sql"
    envelope = answer(call(elsewhere, "internal", "parse-asset", str(file)))
    asset = envelope["asset"]
    for key in ("id", "name", "type", "description", "owner", "upstreams", "materialization", "interval_modifiers",
                "tags", "domains", "meta", "columns", "custom_checks", "parameters", "secrets", "connection",
                "instance"):  # fmt: skip
        assert key in asset
    assert asset["definition_file"]["path"] == str(file), "matched by plain string equality with the editor's path"
    assert asset["executable_file"] == {"name": "orders.sql", "path": str(file), "content": "select 1 as id"}
    assert {"name", "type", "description", "primary_key", "update_on_merge", "nullable", "checks",
            "entity_attribute", "upstreams"} <= asset["columns"][0].keys()  # fmt: skip
    assert (envelope["pipeline"]["name"], envelope["pipeline"]["schedule"]) == ("shop", "daily")
    report = answer(call(elsewhere, "internal", "parse-asset", str(workspace.root / "p/assets/report.py")))["asset"]
    assert report["secrets"] == [{"secret_key": "API_KEY", "injected_key": "TOKEN"}]
    assert report["upstreams"][0]["value"] == "raw.orders"


def test_is_this_an_asset(workspace, elsewhere):
    assert (
        answer(call(elsewhere, "internal", "parse-asset", str(workspace.root / "p/assets/helper.py")))["asset"] is None
    )


def test_pipeline_panel_and_language_server(workspace, elsewhere):
    document = answer(call(elsewhere, "internal", "parse-pipeline", str(workspace.root / "p/pipeline.yml")))
    assert (document["name"], document["schedule"], document["variables"]) == ("shop", "daily", None)
    folder = answer(call(elsewhere, "internal", "parse-pipeline", str(workspace.root / "p")))
    paths = {asset["name"]: asset["definition_file"]["path"] for asset in folder["assets"]}
    assert paths == {"raw.orders": str(workspace.root / "p/assets/orders.sql"),
                     "report": str(workspace.root / "p/assets/report.py")}  # fmt: skip
    graph = folder["assets"][1]
    assert graph["upstreams"] == [{"type": "asset", "value": "raw.orders", "columns": [], "mode": "full"}]
    assert {"id", "name", "type", "columns", "executable_file"} <= graph.keys()


def test_validate(workspace, elsewhere):
    for target in (workspace.root, workspace.root / "p", workspace.root / "p/assets/report.py"):
        result = answer(call(elsewhere, "validate", "-o", "json", str(target)))
        assert isinstance(result, list) and all(isinstance(item["issues"], dict) for item in result)
    workspace.write("p/assets/broken.py", '"""@bruin\nname: broken\ndepends: [nope]\n@bruin"""\n')
    found = call(elsewhere, "validate", "-o", "json", "--exclude-tag", "x", "--full-refresh", str(workspace.root))
    assert found.returncode == 0, "upstream exits 0 with issues; the extension shows them"
    [pipeline] = json.loads(found.stdout)
    assert pipeline["issues"]["broken"][0]["severity"] == "critical"


def test_environments(workspace):
    listed = answer(call(workspace.root, "environments", "list", "-o", "json"))
    assert sorted(e["name"] for e in listed["environments"]) == ["default", "prod"]
    assert listed["selected_environment"] == "default"
    assert call(workspace.root, "environments", "create", "--name", "dev", "-o", "json").returncode == 0
    assert (
        call(workspace.root, "environments", "update", "--name", "dev", "--new-name", "qa", "-o", "json").returncode
        == 0
    )
    assert call(workspace.root, "environments", "delete", "--force", "--name", "qa", "-o", "json").returncode == 0
    assert [e["name"] for e in answer(call(workspace.root, "environments", "list", "-o", "json"))["environments"]] == [
        "default", "prod"
    ]  # fmt: skip


def test_connections(workspace):
    listed = answer(call(workspace.root, "connections", "list", "-o", "json"))
    assert (listed["selected_environment_name"], listed["default_environment_name"]) == ("default", "default")
    connections = listed["environments"]["default"]["connections"]
    assert connections["generic"] == [{"name": "API_KEY", "value": "****"}]
    one = answer(call(workspace.root, "connections", "list", "-env", "prod", "-o", "json"))
    assert one["environments"]["prod"]["connections"] == {}, "-env is --env, not -e nv"

    created = call(workspace.root, "connections", "add", "--env", "prod", "--type", "generic", "--name", "NEW",
                   "--credentials", json.dumps({"value": "${NEW_VALUE}"}), "-o", "json")  # fmt: skip
    assert (created.returncode, created.stdout) == (0, ""), "empty stdout is success"
    refused = call(workspace.root, "connections", "add", "--env", "prod", "--type", "generic", "--name", "NEW",
                   "--credentials", "{}", "-o", "json")  # fmt: skip
    assert "already exists" in json.loads(refused.stdout)["error"]
    assert call(workspace.root, "connections", "delete", "--env", "prod", "--name", "NEW").returncode == 0
    tested = call(workspace.root, "connections", "test", "--env", "default", "--type", "generic", "--name", "API_KEY",
                  "-o", "json")  # fmt: skip
    assert tested.returncode == 0 and "support" in tested.stdout


def test_templates_init_and_version(workspace, elsewhere):
    templates = answer(call(elsewhere, "internal", "list-templates", "-o", "json"))
    assert templates["count"] == len(templates["templates"]) and "default" in templates["templates"]
    chosen = elsewhere / "chosen"
    chosen.mkdir()
    assert call(chosen, "init", "duckdb", "--in-place").returncode == 0
    assert (chosen / "duckdb" / "pipeline.yml").is_file()
    version = answer(call(elsewhere, "version", "-o", "json", ""))
    assert SEMVER.fullmatch(version["version"]) and SEMVER.fullmatch(version["latest"])
    assert call(elsewhere, "--version").returncode == 0


def test_asset_metadata_answers_like_upstream_for_non_bigquery_assets(workspace, elsewhere):
    done = call(elsewhere, "internal", "asset-metadata", "-start-date", "2024-01-01", "-end-date", "2024-01-02",
                "-env", "default", str(workspace.root / "p/assets/orders.sql"))  # fmt: skip
    assert (done.returncode, done.stderr) == (1, "")
    assert json.loads(done.stdout) == {
        "error": "asset-metadata is only available for BigQuery SQL assets and BigQuery query sensors"
    }


def test_the_typed_run_command(workspace):
    """What the extension types into its terminal (one flag per line there), as the argv the shell passes."""
    workspace.write(
        "p/pipeline.yml", "name: shop\nschedule: daily\nvariables:\n  k:\n    type: object\n    default: {}\n"
    )
    argv = ["run", "--start-date", "2024-01-01T00:00:00.000Z", "--end-date", "2024-01-01T23:59:59.999999999Z",
            "--full-refresh", "--apply-interval-modifiers", "--sensor-mode", "once", "--exclude-tag", "x",
            "--var", 'k={"a": 1}', "--environment", "default"]  # fmt: skip
    tagged = call(workspace.root, *argv, "--tag", "nothing", str(workspace.root / "p"))
    assert (tagged.returncode, tagged.stderr) == (
        1,
        "Failed to filter assets: no assets found with include tag 'nothing'\n",
    )
    ran = call(workspace.root, *argv, str(workspace.root / "p"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "bruin run completed successfully" in ran.stdout
    single = call(workspace.root, "run", "--downstream", "--environment", "default",
                  str(workspace.root / "p/assets/orders.sql"))  # fmt: skip
    assert single.returncode == 0 and "Running only the asset 'raw.orders'" in single.stdout
    history = sorted((workspace.root / "logs" / "runs" / "shop").glob("*.json"))
    state = json.loads(history[-1].read_text())
    assert [s["status"] for s in state["state"]] == ["succeeded", "succeeded"]
    for key in ("downstream", "fullRefresh", "force", "pushMetadata", "applyIntervalModifiers", "tag", "only",
                "environment", "startDate", "endDate"):  # fmt: skip
        assert key in state["parameters"]
    assert (
        state["cmdline"][-1] == str(workspace.root / "p/assets/orders.sql") and state["run_id"] and state["timestamp"]
    )
    continued = call(workspace.root, "run", "--continue", str(workspace.root / "p"))
    assert continued.returncode == 0 and continued.stdout.endswith("No tasks to run.\n")


def test_render_preview(workspace, elsewhere):
    """`render -o json [--start-date X] [--end-date Y] [--var K=V]... [--apply-interval-modifiers] [--full-refresh]
    <file>` (only these flags pass); it reads `.query`."""
    workspace.write("p/pipeline.yml", "name: shop\nvariables:\n  region: {type: string, default: eu}\n")
    workspace.write("p/assets/orders.sql", "/* @bruin\nname: raw.orders\ntype: duckdb.sql\nmaterialization:\n"
                                           "  type: table\n@bruin */\nselect '{{ var.region }}' as region, "
                                           "'{{ start_date }}' as day, {{ full_refresh }} as refresh\n")  # fmt: skip
    file = str(workspace.root / "p" / "assets" / "orders.sql")
    done = call(elsewhere, "render", "-o", "json", "--start-date", "2024-01-01T00:00:00.000Z", "--end-date",
                "2024-01-31T23:59:59.999999999Z", "--var", 'region="us"', "--apply-interval-modifiers",
                "--full-refresh", file)  # fmt: skip
    query = answer(done)["query"]
    assert "select 'us' as region, '2024-01-01' as day, True as refresh" in query
    assert "CREATE TABLE raw.orders" in query
    plain = call(elsewhere, "render", file)  # the fallback when stdout is not JSON
    assert plain.returncode == 0 and "select 'eu' as region" in plain.stdout


def test_lineage_text_view_and_ddl(workspace, elsewhere):
    """`lineage -o json <file>` (it reads `name`, `upstreams[].name`, `downstream[].name`) and `render-ddl
    [--start-date S] [--end-date E] [--apply-interval-modifiers] <file>` (no `-o`; trimmed stdout)."""
    orders = str(workspace.root / "p" / "assets" / "orders.sql")
    lineage = answer(call(elsewhere, "lineage", "-o", "json", orders))
    assert (lineage["name"], [d["name"] for d in lineage["upstreams"]], [d["name"] for d in lineage["downstream"]]) == (
        "raw.orders", [], ["report"]
    )  # fmt: skip
    report = answer(call(elsewhere, "lineage", "-o", "json", str(workspace.root / "p" / "assets" / "report.py")))
    assert report["upstreams"][0]["definition_file"]["path"] == orders
    ddl = call(elsewhere, "render-ddl", "--start-date", "2024-01-01T00:00:00.000Z", "--end-date",
               "2024-01-31T23:59:59.999999999Z", "--apply-interval-modifiers", orders)  # fmt: skip
    assert ddl.returncode == 0 and ddl.stdout.strip() == (
        "CREATE TABLE IF NOT EXISTS raw.orders (\n  id integer,\n  PRIMARY KEY (id)\n)"
    )


def test_unknown_commands_and_flags_answer_as_upstream(workspace, elsewhere):
    unknown = call(elsewhere, "internal", "fetch-databases", "-c", "x", "-o", "json")
    assert (unknown.returncode, unknown.stderr) == (3, "No help topic for 'fetch-databases'\n")
    flag = call(elsewhere, "internal", "parse-asset", "--nope", "x")
    assert flag.returncode == 1 and flag.stderr == "Incorrect Usage: flag provided but not defined: -nope\n"


def test_connection_form_schema(elsewhere):
    """`internal connections`: the form lists `$defs.Connections.properties`, follows `items.$ref` and needs
    `required` as an array on every connection definition."""
    schema = answer(call(elsewhere, "internal", "connections"))
    assert (schema["$schema"], schema["$ref"]) == (
        "https://json-schema.org/draft/2020-12/schema",
        "#/$defs/Connections",
    )
    types = schema["$defs"]["Connections"]["properties"]
    assert len(types) == 147 and list(types)[:3] == ["aws", "athena", "google_cloud_platform"]
    for entry in types.values():
        assert entry["type"] == "array"
        definition = schema["$defs"][entry["items"]["$ref"].removeprefix("#/$defs/")]
        assert isinstance(definition["required"], list) and "name" in definition["properties"]
    postgres = schema["$defs"][types["postgres"]["items"]["$ref"].removeprefix("#/$defs/")]["properties"]
    assert postgres["port"] == {"default": 0, "type": "integer"}
    assert postgres["password"]["format"] == "password"
    duckdb = schema["$defs"][types["duckdb"]["items"]["$ref"].removeprefix("#/$defs/")]["properties"]
    assert duckdb["lakehouse"]["$ref"].removeprefix("#/$defs/") in schema["$defs"]


def test_query_preview_and_export(workspace, elsewhere):
    """`query -o json (--connection C --query Q | --asset A [--query Q]) [--environment E] [--limit L] --timeout T`,
    and the export call with single-dash flags."""
    asset = str(workspace.root / "p/assets/orders.sql")
    argv = ("query", "-o", "json", "--connection", "duckdb-default", "--query", "SELECT 42 AS answer")
    preview = answer(call(workspace.root, *argv, "--environment", "default", "--limit", "10", "--timeout", "30"))
    assert (preview["columns"], preview["rows"], preview["connectionName"]) == (
        [{"name": "answer", "type": "INTEGER"}], [[42]], "duckdb-default"
    )  # fmt: skip
    on_asset = answer(call(elsewhere, "query", "-o", "json", "--asset", asset, "--start-date", "2024-01-01",
                           "--end-date", "2024-01-02", "--timeout", "30"))  # fmt: skip
    assert on_asset["rows"] == [[1]]
    exported = answer(call(elsewhere, "query", "-export", "-asset", asset, "-o", "json"))
    [(key, value)] = exported.items()
    assert f"{key}: {value}".startswith(f"Results Successfully exported to: {workspace.root / 'logs'}")
