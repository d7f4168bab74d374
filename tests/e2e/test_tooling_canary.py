"""Canary: no JSON document, listing, run state or console text of the tooling surface carries a secret value —
typed, untyped, nested, from a secret file, or expanded from a `${VAR}` — in any command's output or file."""

from __future__ import annotations

import json

CANARY = "canary-9a4e21f7-tooling"

CONFIG = f"""
default_environment: default
environments:
  default:
    connections:
      postgres:
        - name: pg
          username: app
          password: {CANARY}-pg
          host: localhost
      snowflake:
        - name: sf
          account: acme
          private_key: {CANARY}-sf
      google_cloud_platform:
        - name: gcp
          project_id: p
          service_account_json: '{{"private_key": "{CANARY}-gcp"}}'
      duckdb:
        - name: duckdb-default
          path: local.db
          lakehouse:
            format: iceberg
            catalog:
              type: glue
              auth:
                secret_key: {CANARY}-lakehouse
        - name: plain
          path: plain.db
      stripe:
        - name: stripe
          api_key: {CANARY}-stripe
      mongo:
        - name: mongo
          host: h
          password: {CANARY}-mongo
      generic:
        - name: API_KEY
          value: {CANARY}-generic
        - name: FROM_ENV
          value: ${{FROM_ENV}}
  other:
    connections:
      generic:
        - name: API_KEY
          value: {CANARY}-other
"""


def test_no_tooling_output_or_file_carries_a_secret(project):
    project.write(".bruin.yml", CONFIG)
    project.write("p/pipeline.yml", "name: p\ndefault:\n  secrets:\n    - key: API_KEY\n")
    project.write(
        "p/assets/a.py",
        '"""@bruin\nname: a\nsecrets:\n  - key: FROM_ENV\n  - key: pg\n@bruin"""\nimport os\nprint(os.environ["pg"])\n',
    )
    project.write("p/assets/b.py", '"""@bruin\nname: b\ndepends: [a]\n@bruin"""\nraise SystemExit(1)\n')
    env = {"FROM_ENV": f"{CANARY}-env"}
    calls = [
        ("connections", "list", "-o", "json"),
        ("connections", "list", "-env", "other", "-o", "json"),
        ("connections", "list"),
        ("connections", "test", "--name", "sf", "-o", "json"),
        ("connections", "test", "--name", "pg", "-o", "json"),
        ("environments", "list", "-o", "json"),
        ("internal", "parse-pipeline", "p"),
        ("internal", "parse-asset", "p/assets/a.py"),
        ("render", "p/assets/a.py"),
        ("render", "-o", "json", "p/assets/a.py"),
        ("validate", "-o", "json", "p"),
        ("validate", "p"),
        ("run", "p"),
        ("run", "--minimal-logs", "p"),
        ("run", "--continue", "p"),
        ("version", "-o", "json"),
        *(
            (
                "query",
                "--connection",
                "plain",
                "--query",
                f"SELECT '{CANARY}-generic' AS v, '{CANARY}-env' AS w",
                "-o",
                form,
            )
            for form in ("json", "csv", "plain")
        ),
        ("query", "--connection", "plain", "--query", f'SELECT * FROM "{CANARY}-pg"', "-o", "json"),
        ("query", "--connection", "plain", "--query", f"SELECT '{CANARY}-stripe'", "--dry-run", "-o", "json"),
        ("query", "--connection", "plain", "--query", f"SELECT '{CANARY}-mongo'", "--export", "-o", "json"),
    ]
    outputs = {}
    for call in calls:
        result = project.bruin(*call, env=env)
        assert CANARY not in result.output, (call, result.output)
        assert "Traceback" not in result.output, (call, result.output)
        outputs[call] = result
    queried = json.loads(outputs[calls[-6]].stdout)
    assert queried["rows"] == [["****", "****"]] and "'****' AS v" in queried["query"]
    assert outputs[calls[-3]].returncode == 1 and "****" in json.loads(outputs[calls[-3]].stdout)["error"]
    listed = json.loads(project.bruin("connections", "list", "-o", "json", env=env).stdout)
    connections = listed["environments"]["default"]["connections"]
    assert connections["duckdb"][0]["lakehouse"]["catalog"]["auth"]["secret_key"] == "****"
    assert connections["stripe"] == [{"name": "stripe", "api_key": "****"}]
    assert connections["generic"][1] == {"name": "FROM_ENV", "value": "${FROM_ENV}"}
    assert project.files_containing(CANARY) == [project.root / ".bruin.yml"]
    assert list((project.root / "logs" / "runs" / "p").glob("*.json")), "the run state files were checked too"
