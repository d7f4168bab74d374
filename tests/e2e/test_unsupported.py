"""Nothing silently ignored: every entry of the unsupported-feature table is a validate error naming the file,
the asset and the key, and fails that asset in `bruin run` before anything starts (downstream upstream_failed)."""

from __future__ import annotations

import json

import pytest

from pybruin.plan.unsupported import UNSUPPORTED

BRUIN_YML = """
default_environment: default
environments:
  default:
    connections:
      duckdb:
        - name: duckdb-default
          path: local.db
      google_cloud_platform:
        - name: gcp-default
          project_id: p
          use_application_default_credentials: true
"""

SQL_HEADER = "/* @bruin\nname: bad\ntype: {type}\n{extra}@bruin */\nselect 1 as id\n"
PY_HEADER = '""" @bruin\nname: bad\n{extra}@bruin """\nprint("ran")\n'
R_HEADER = '"@bruin\nname: bad\ntype: r\n@bruin"\ncat("ran\\n")\n'

# Entry key -> (files to write besides the pipeline, the file the asset is defined in, pipeline.yml extra lines).
ASSET_LEVEL = {
    "unit_tests": (
        {"assets/bad.sql": SQL_HEADER.format(type="duckdb.sql", extra="unit_tests:\n  - name: t\n")},
        "assets/bad.sql",
    ),
    "extends": ({"assets/bad.sql": SQL_HEADER.format(type="duckdb.sql", extra="extends: [base]\n")}, "assets/bad.sql"),
    "renv.lock of an R asset": ({"assets/sub/bad.r": R_HEADER, "assets/sub/renv.lock": "{}\n"}, "assets/sub/bad.r"),
    "materialization partition_by / cluster_by of a BigQuery or Snowflake table": (
        {"assets/bad.sql": SQL_HEADER.format(
            type="bq.sql", extra="materialization:\n  type: table\n  cluster_by: [id]\n")},
        "assets/bad.sql",
    ),
    "collation of a ddl column of a BigQuery or Snowflake table": (
        {"assets/bad.sql": SQL_HEADER.format(
            type="bq.sql", extra="materialization:\n  type: table\n  strategy: ddl\n"
                                 "columns:\n  - {name: code, type: VARCHAR, collation: en-ci}\n").replace(
                                     "select 1 as id\n", "")},
        "assets/bad.sql",
    ),
    "sensor assets (type: *.sensor.*)": (
        {"assets/bad.sql": SQL_HEADER.format(type="duckdb.sensor.query", extra="")},
        "assets/bad.sql",
    ),
}
PIPELINE_LEVEL = {
    "metadata_push in pipeline.yml": ("metadata_push:\n  bigquery: true\n", {}),
    "variants in pipeline.yml": ("variants:\n  us:\n    country: us\n", {}),
}

DOWNSTREAM = '""" @bruin\nname: after\ntype: empty\ndepends: [bad]\n@bruin """\n'
INDEPENDENT = '""" @bruin\nname: other\n@bruin """\nprint("other ran")\n'


def test_every_table_entry_has_an_end_to_end_case() -> None:
    assert {entry.key for entry in UNSUPPORTED} == ASSET_LEVEL.keys() | PIPELINE_LEVEL.keys()


def _statuses(project) -> dict[str, tuple[str, str | None]]:
    manifest = json.loads(next((project.root / "logs" / "runs").glob("*.json")).read_text())
    return {entry["name"]: (entry["status"], entry["error"]) for entry in manifest["assets"]}


@pytest.mark.parametrize("key", sorted(ASSET_LEVEL))
def test_asset_level_feature_is_refused_by_validate_and_run(project, key: str) -> None:
    files, where = ASSET_LEVEL[key]
    project.write(".bruin.yml", BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    for relative, text in files.items():
        project.write(f"p/{relative}", text)
    project.write("p/assets/after.py", DOWNSTREAM)
    project.write("p/assets/other.py", INDEPENDENT)
    message = f"{key} in {where} is not supported by pybruin yet"

    validated = project.bruin("validate", "p")
    assert validated.returncode == 1, validated.output
    assert f"  bad ({where})\n    └── {message} (pybruin-unsupported)\n" in validated.stdout

    ran = project.bruin("run", "p")
    assert ran.returncode == 1, ran.output
    assert f"Failed: bad (0.00s): {message}" in ran.stdout
    assert "ran\n" not in ran.stdout.replace("other ran", "")
    statuses = _statuses(project)
    assert statuses["bad"] == ("failed", message)
    assert statuses["after"] == ("upstream_failed", None)
    assert statuses["other"] == ("succeeded", None)


@pytest.mark.parametrize("key", sorted(PIPELINE_LEVEL))
def test_pipeline_level_feature_refuses_every_asset(project, key: str) -> None:
    extra, files = PIPELINE_LEVEL[key]
    project.write(".bruin.yml", BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n" + extra)
    for relative, text in files.items():
        project.write(f"p/{relative}", text)
    project.write("p/assets/other.py", INDEPENDENT)

    validated = project.bruin("validate", "p")
    assert validated.returncode == 1, validated.output
    assert f"└── {key} in assets/other.py is not supported by pybruin yet (pybruin-unsupported)" in validated.stdout

    ran = project.bruin("run", "p")
    assert ran.returncode == 1, ran.output
    assert "other ran" not in ran.stdout
    assert _statuses(project)["other"][0] == "failed"


@pytest.mark.parametrize(
    ("materialization", "message"),
    [
        ("type: table\n  strategy: datavault_hub",
         "materialization strategy 'datavault_hub' is not supported by pybruin yet"),
        ("type: table\n  strategy: nonsense", "Materialization strategy 'nonsense' is not supported, available "
         "strategies are: [create+replace delete+insert truncate+insert append merge time_interval ddl scd2_by_time "
         "scd2_by_column datavault_hub datavault_link datavault_satellite]"),
        ("type: view\n  strategy: append", "Materialization strategy is not supported for views"),
        ("type: cube", "Materialization type 'cube' is not supported, available types are: [view table]"),
    ],
)  # fmt: skip
def test_materialization_pybruin_cannot_run_is_refused(project, materialization: str, message: str) -> None:
    project.write(".bruin.yml", BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/bad.sql", f"/* @bruin\nname: bad\ntype: duckdb.sql\nmaterialization:\n  {materialization}\n"
                                      "@bruin */\nselect 1 as id\n")  # fmt: skip
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1
    assert f"  bad (assets/bad.sql)\n    └── {message} in assets/bad.sql (pybruin-unsupported)" in validated.stdout
    ran = project.bruin("run", "p")
    assert ran.returncode == 1
    assert _statuses(project)["bad"] == ("failed", f"{message} in assets/bad.sql")


def test_asset_type_pybruin_cannot_run_is_refused(project) -> None:
    project.write(".bruin.yml", BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/bad.sql", "/* @bruin\nname: bad\ntype: ms.sql\n@bruin */\nselect 1\n")
    project.write("p/assets/after.py", DOWNSTREAM)
    validated = project.bruin("validate", "p")
    assert (
        "    └── asset type 'ms.sql' in assets/bad.sql is not supported by pybruin yet (pybruin-unsupported)"
        in validated.stdout
    )
    ran = project.bruin("run", "p")
    assert ran.returncode == 1
    assert _statuses(project) == {
        "bad": ("failed", "asset type 'ms.sql' in assets/bad.sql is not supported by pybruin yet"),
        "after": ("upstream_failed", None),
    }


def test_duckdb_asset_without_connection_fails_validate_like_run_when_the_default_is_missing(project) -> None:
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/t.sql", "/* @bruin\nname: t\ntype: duckdb.sql\n@bruin */\nselect 1\n")
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1
    expected = "└── connection 'duckdb-default' is not defined in environment 'default' (connection-exists)"
    assert expected in validated.stdout
    checked = project.bruin("secrets", "check", "p", "-o", "json")
    assert [(row["key"], row["status"]) for row in json.loads(checked.stdout)] == [("duckdb-default", "missing")]
    ran = project.bruin("run", "p")
    assert ran.returncode == 1
    assert "connection 'duckdb-default' not found" in _statuses(project)["t"][1]


def test_duckdb_lakehouse_connection_is_refused_not_ignored(project) -> None:
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      duckdb:\n        - name: duckdb-default\n"
        "          path: lake.db\n          lakehouse:\n            format: ducklake\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/t.sql", "/* @bruin\nname: t\ntype: duckdb.sql\n@bruin */\nselect 1\n")
    ran = project.bruin("run", "-o", "json", "p")
    assert ran.returncode == 1
    assert json.loads(ran.stdout)["assets"][0]["error"] == (
        "asset 't': connection 'duckdb-default': 'lakehouse' (an attached Iceberg or DuckLake catalog) "
        "is not supported by pybruin yet"
    )
