"""`bruin internal parse-pipeline` / `parse-asset`: upstream's documents, field by field (spec §1)."""

from __future__ import annotations

import hashlib
import json

import pytest

PIPELINE_KEYS = [
    "legacy_id", "name", "tags", "domains", "meta", "owner", "schedule", "start_date", "definition_file",
    "default_connections", "assets", "notifications", "catchup", "metadata_push", "retries", "concurrency",
    "max_active_steps", "commit", "snapshot", "agent", "variables", "selected_variant", "macros",
]  # fmt: skip
ASSET_KEYS = [
    "id", "uri", "name", "type", "description", "start_date", "connection", "tags", "domains", "meta",
    "materialization", "upstreams", "image", "instance", "owner", "executable_file", "definition_file",
    "parameters", "secrets", "extends", "columns", "custom_checks", "hooks", "metadata", "snowflake", "athena",
    "bigquery", "interval_modifiers", "retries",
]  # fmt: skip
SUMMARY_SQL = """\
/* @bruin
name: chess_playground.player_summary
type: duckdb.sql
materialization:
   type: table
depends:
   - chess_playground.games
   - asset: chess_playground.profiles
     mode: symbolic
hooks:
  pre:
    - query: "select 1"
columns:
  - name: total_games
    type: integer
    description: "the games"
    checks:
      - name: positive
      - name: not_a_real_check
@bruin */

SELECT 1 AS total_games
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def whole(project):
    project.write("p/pipeline.yml", "name: integration_test\n")
    project.write("p/macros/macro.sql", "{{ some_macro() }}")
    project.write(
        "p/assets/asset.py",
        '"""@bruin\nname: python_asset\nimage: python:3.11\ndepends:\n  - chess_playground.player_summary\n'
        'secrets:\n  - key: KEY1\n    inject_as: INJECTED1\n@bruin"""\n\nprint("hello")\n',
    )
    project.write(
        "p/assets/chess_games.asset.yml",
        "name: chess_playground.games\ntype: ingestr\nparameters:\n  source_connection: chess-default\n"
        "  source_table: games\n  destination: duckdb\n",
    )
    project.write("p/assets/player_summary.sql", SUMMARY_SQL)
    project.write("p/assets/not_an_asset.sql", "select 1\n")
    return project


def parse(project, *args: str) -> dict:
    result = project.bruin("internal", *args)
    assert result.returncode == 0, result.output
    assert result.stderr == ""
    assert result.stdout.endswith("}\n") and "\n" not in result.stdout[:-1], "compact JSON, one line"
    return json.loads(result.stdout)


def test_parse_pipeline_matches_upstreams_document(whole):
    document = parse(whole, "parse-pipeline", str(whole.root / "p"))
    assert list(document) == PIPELINE_KEYS
    assert document["name"] == "integration_test"
    assert document["definition_file"] == {"name": "pipeline.yml", "path": str(whole.root / "p" / "pipeline.yml")}
    assert document["notifications"] == {"slack": [], "ms_teams": [], "discord": [], "webhook": [], "email": []}
    assert document["metadata_push"] == {"bigquery": False}
    assert (document["concurrency"], document["variables"], document["macros"]) == (1, None, ["{{ some_macro() }}"])
    python, games, summary = document["assets"]
    assert [list(asset) for asset in (python, games, summary)] == [ASSET_KEYS] * 3
    assert python["id"] == "17c2f1111545c0e72ea13a3a07fb3d5a4d96074d128ed10c1c03cc477401d61a"
    assert python["type"] == "python" and python["image"] == "python:3.11"
    assert python["upstreams"] == [
        {"type": "asset", "value": "chess_playground.player_summary", "columns": [], "mode": "full"}
    ]
    assert python["secrets"] == [{"secret_key": "KEY1", "injected_key": "INJECTED1"}]
    assert python["executable_file"]["content"] == "", "parse-pipeline leaves contents out"
    assert python["definition_file"]["type"] == "comment"
    assert games["id"] == "209c299a591add072bfa259ad5f311ab7c5aa154960a55b20f3d6de33bb8f21b"
    assert games["definition_file"]["type"] == "yaml"
    assert games["parameters"] == {
        "destination": "duckdb",
        "source_connection": "chess-default",
        "source_table": "games",
    }
    assert summary["materialization"] == {
        "type": "table", "strategy": "", "partition_by": "", "cluster_by": None, "incremental_key": "",
        "incremental_predicate": "", "time_granularity": "",
    }  # fmt: skip
    assert summary["upstreams"][1] == {"type": "asset", "value": "chess_playground.profiles", "columns": [],
                                       "mode": "symbolic"}  # fmt: skip
    [column] = summary["columns"]
    assert column["checks"] == [
        {"id": "df9255080865c27b164a7de36a0a26bcc00345dddd66849d96aa96a2c68266ea", "name": "positive",
         "value": None, "blocking": True, "description": "", "retries": None}
    ], "unknown check names are dropped, as upstream does"  # fmt: skip
    assert (column["nullable"], column["type"], column["description"]) == (True, "integer", "the games")
    assert summary["hooks"] == {"pre": [{"query": "select 1"}]}


@pytest.mark.parametrize("where", ["p", "p/pipeline.yml", "p/assets/asset.py", "p/assets", "p/macros"])
def test_any_path_inside_the_pipeline_parses_the_pipeline(whole, where):
    assert parse(whole, "parse-pipeline", where)["name"] == "integration_test"


def test_slim_response_puts_the_slim_assets_last(whole):
    document = parse(whole, "parse-pipeline", "--exp-slim-response", "p")
    assert list(document)[-1] == "assets"
    assert list(document["assets"][0]) == ["id", "name", "type", "executable_file", "definition_file", "upstreams"]


def test_parse_asset_keeps_the_content_and_names_the_repository(whole):
    envelope = parse(whole, "parse-asset", str(whole.root / "p/assets/player_summary.sql"))
    assert list(envelope) == ["asset", "pipeline", "repo"]
    assert envelope["pipeline"] == {"name": "integration_test", "schedule": "", "start_date": ""}
    assert envelope["repo"] == {"path": str(whole.root)}
    assert envelope["asset"]["executable_file"]["content"] == "SELECT 1 AS total_games"
    assert envelope["asset"]["id"] == sha("chess_playground.player_summary")
    games = parse(whole, "parse-asset", "p/assets/chess_games.asset.yml")["asset"]
    assert games["executable_file"]["content"] == (whole.root / "p/assets/chess_games.asset.yml").read_text()


@pytest.mark.parametrize("file", ["p/assets/not_an_asset.sql", "p/pipeline.yml", "p/macros/macro.sql"])
def test_a_file_that_is_not_an_asset_is_null(whole, file):
    assert parse(whole, "parse-asset", file)["asset"] is None


def test_defaults_from_the_pipeline(project):
    project.write(
        "p/pipeline.yml",
        "name: defaults\ndefault:\n  type: ingestr\n  secrets:\n    - key: KEY2\n      inject_as: INJECTED2\n"
        "  parameters:\n    destination: duckdb\n  hooks:\n    pre:\n      - query: select 1\n  rerun_cooldown: 300\n",
    )
    project.write("p/assets/a.yml.asset.yml", "name: a\nparameters:\n  source_table: t\n")
    project.write("p/assets/b.sql", "/* @bruin\nname: b\ntype: duckdb.sql\n@bruin */\nselect 1\n")
    project.write("p/assets/c.py", '"""@bruin\nname: c\nrerun_cooldown: -1\n@bruin"""\n')
    result = project.bruin("internal", "parse-pipeline", "p")
    assert (
        '"default":{"type":"ingestr","materialization":null,"parameters":{"destination":"duckdb"},'
        '"secrets":[{"SecretKey":"KEY2","InjectedKey":"INJECTED2"}],"hooks":{"pre":[{"query":"select 1"}]},'
        '"snowflake":null,"athena":null,"bigquery":null,"interval_modifiers":null,"rerun_cooldown":300}'
    ) in result.stdout
    document = json.loads(result.stdout)
    assert document["retries_delay"] == 300
    a, b, c = document["assets"]
    assert a["type"] == "ingestr" and a["parameters"] == {"destination": "duckdb", "source_table": "t"}
    assert a["hooks"] == {} and b["hooks"] == {"pre": [{"query": "select 1"}]}, "default hooks: SQL assets only"
    assert a["secrets"] == [{"secret_key": "KEY2", "injected_key": "INJECTED2"}]
    assert (a["rerun_cooldown"], a["retries_delay"]) == (300, 300)
    assert (c["rerun_cooldown"], c["retries_delay"]) == (-1, 0)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["parse-pipeline", "/"], "cannot find a pipeline the given task belongs to. Are you sure this task is in an "
                                  "actual pipeline?"),
        (["parse-asset", "--variant", "v", "p/assets/b.py"],
         "variants in pipeline.yml are not supported by pybruin yet (--variant)"),
    ],
)  # fmt: skip
def test_errors_are_json_on_stdout(project, args, error):
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/b.py", '"""@bruin\nname: b\n@bruin"""\n')
    result = project.bruin("internal", *args)
    assert (result.returncode, result.stderr) == (1, "")
    assert json.loads(result.stdout) == {"error": error}


def test_a_bad_header_is_a_json_error_naming_the_file(project):
    project.write("p/pipeline.yml", "name: p\n")
    bad = project.write("p/assets/error.sql", "/* @bruin\nname: [unclosed\n@bruin */\nselect 1\n")
    result = project.bruin("internal", "parse-asset", str(bad))
    assert (result.returncode, result.stderr) == (1, "")
    assert json.loads(result.stdout)["error"].startswith(f"{bad}:3: invalid YAML in the @bruin header")


def test_parse_asset_outside_git_and_without_a_path(tmp_path):
    import subprocess
    import sys

    (tmp_path / "p/assets").mkdir(parents=True)
    (tmp_path / "p/pipeline.yml").write_text("name: p\n")
    (tmp_path / "p/assets/a.py").write_text('"""@bruin\nname: a\n@bruin"""\n')
    done = subprocess.run([sys.executable, "-m", "pybruin", "internal", "parse-asset", "p/assets/a.py"],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert json.loads(done.stdout) == {"error": "no git repository found"}
    empty = subprocess.run([sys.executable, "-m", "pybruin", "internal", "parse-asset"], cwd=tmp_path,
                           capture_output=True, text=True)  # fmt: skip
    assert (empty.returncode, empty.stdout) == (
        1,
        "Please give an asset path to parse: bruin render <path to the asset file>)\n",
    )


LINEAGE = {
    "users.sql": (
        "name: users\ncolumns:\n  - name: id\n    type: integer\n    description: Just a number\n"
        "    primary_key: true\n  - name: name\n    type: varchar\n  - name: country\n    type: varchar\n"
        "  - name: created_at\n    type: timestamp\n",
        "select * from user_data",
    ),
    "people.sql": ("name: people\ndepends: [users]\n", "select id, name, created_at from users where country = 'UK'"),
    "report.sql": ("name: report\ndepends: [people, ghost]\n", "select 1 as x"),
    "summary.sql": (
        "name: summary\ndepends: [people]\ncolumns:\n  - name: id\n    type: integer\n    primary_key: true\n",
        "select p.id, p.name, p.created_at as updated_at, 1 as one from people p where p.id > 10",
    ),
}


@pytest.fixture
def lineage(project):
    project.write("p/pipeline.yml", "name: lineage\n")
    for file, (header, query) in LINEAGE.items():
        project.write(f"p/assets/{file}", f"/* @bruin\n{header}type: duckdb.sql\n@bruin */\n{query}\n")
    return project


def test_column_lineage_of_a_pipeline(lineage):
    document = parse(lineage, "parse-pipeline", "-c", "p")
    by_name = {asset["name"]: asset for asset in document["assets"]}
    people = by_name["people"]
    assert [(c["name"], c["type"], c["description"], c["upstreams"]) for c in people["columns"]] == [
        ("created_at", "timestamp", "", [{"column": "created_at", "table": "users"}]),
        ("id", "integer", "Just a number", [{"column": "id", "table": "users"}]),
        ("name", "varchar", "", [{"column": "name", "table": "users"}]),
    ]
    assert people["columns"][1]["primary_key"] is False, "keys and checks are not carried down"
    assert [c["name"] for c in people["upstreams"][0]["columns"]] == ["country", "created_at", "id", "name"]
    summary = by_name["summary"]
    assert [(c["name"], c["primary_key"], c["upstreams"]) for c in summary["columns"]] == [
        ("id", True, [{"column": "id", "table": "people"}]),
        ("name", False, [{"column": "name", "table": "people"}]),
        ("one", False, []),
        ("updated_at", False, [{"column": "created_at", "table": "people"}]),
    ]
    assert summary["columns"][2]["type"] == "INT"
    assert by_name["report"]["columns"] == [], "an unknown upstream stops that asset's lineage only"


def test_column_lineage_of_an_asset_reports_its_issues(lineage):
    envelope = parse(lineage, "parse-asset", "-c", str(lineage.root / "p/assets/report.sql"))
    assert envelope["lineage_issues"] == [{"name": "report", "error": "upstream asset not found: ghost"}]
    summary = parse(lineage, "parse-asset", "-c", "p/assets/summary.sql")
    assert "lineage_issues" not in summary
    assert summary["asset"]["executable_file"]["content"].startswith("select p.id")
    assert [c["name"] for c in summary["asset"]["columns"]] == ["id", "name", "one", "updated_at"]
