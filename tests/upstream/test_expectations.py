"""pybruin's answers compared with upstream Bruin's own expectation files (its integration tests), where the
upstream checkout is on this machine (`tests/conftest.py` collects this module only then).

Compared as upstream's harness compares them: semantic JSON, ignoring only the keys it skips (`path`,
`extends`, `commit`, `snapshot`). Differences are pybruin's decisions: credentials masked in listings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = Path("/work/upstream/bruin/integration-tests")
SKIPPED = {"path", "extends", "commit", "snapshot"}


@pytest.fixture(scope="module")
def tests_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("upstream") / "integration-tests"
    shutil.copytree(UPSTREAM / "test-pipelines", folder / "test-pipelines")
    shutil.copy(UPSTREAM / ".bruin.yml", folder / ".bruin.yml")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


def bruin(folder: Path, *args: str) -> object:
    done = subprocess.run([sys.executable, "-m", "pybruin", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def without_skipped(value: object) -> object:
    if isinstance(value, dict):
        return {key: without_skipped(item) for key, item in value.items() if key not in SKIPPED}
    if isinstance(value, list):
        return [without_skipped(item) for item in value]
    return value


def expected(relative: str) -> object:
    return without_skipped(json.loads((UPSTREAM / relative).read_text()))


PARSED = [
    (("parse-pipeline", "parse-whole-pipeline"), "parse-whole-pipeline/expectations/pipeline.yml.json"),
    (("parse-pipeline", "parse-default-option"), "parse-default-option/expectations/pipeline.yml.json"),
    (("parse-pipeline", "parse-happy-path"), "parse-happy-path/expectations/pipeline.yml.json"),
    (("parse-pipeline", "-c", "parse-lineage-pipeline"), "parse-lineage-pipeline/expectations/lineage.json"),
    (("parse-asset", "-c", "parse-asset-lineage-pipeline/assets/example.sql"),
     "parse-asset-lineage-pipeline/expectations/lineage-asset.json"),
    (("parse-asset", "run-seed-data/assets/seed.asset.yml"), "run-seed-data/expectations/seed.asset.yml.json"),
    *((("parse-asset", f"parse-happy-path/assets/{name}"), f"parse-happy-path/expectations/{name}.json")
      for name in ("asset.py", "chess_games.asset.yml", "chess_profiles.asset.yml", "player_summary.sql")),
    *((("parse-asset", f"parse-default-option/assets/{name}"), f"parse-default-option/expectations/{name}.json")
      for name in ("asset.py", "chess_games.asset.yml")),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expectation"), PARSED)
def test_parse_documents(tests_folder, args, expectation):
    *flags, target = args
    answer = bruin(tests_folder, "internal", *flags, f"test-pipelines/{target}")
    assert without_skipped(answer) == expected(f"test-pipelines/{expectation}")


def test_validate_json(tests_folder):
    target = "test-pipelines/missing-upstream-pipeline/assets/nonexistent.sql"
    assert bruin(tests_folder, "validate", "-o", "json", target) == expected(
        "test-pipelines/missing-upstream-pipeline/expectations/missing_upstream.json"
    )


def test_connections_list_is_upstreams_with_credentials_masked(tests_folder):
    listing = expected("expectations/expected_connections.json")
    for environment in [listing["selected_environment"], *listing["environments"].values()]:
        for connection in environment["connections"].get("generic", []):
            connection["value"] = "****"
    assert without_skipped(bruin(tests_folder, "connections", "list", "-o", "json", ".")) == listing


def test_the_compatibility_hash_of_the_continue_pipeline(tests_folder):
    from pybruin.pipeline.loader import load_pipeline
    from pybruin.run.state import compatibility_hash

    pipeline = tests_folder / "test-pipelines" / "continue-pipeline"
    shutil.copy(
        pipeline / "resources" / "shipping_providers_broken.sql", pipeline / "assets" / "shipping_providers.sql"
    )
    state = json.loads(
        (UPSTREAM / "test-pipelines/continue-pipeline/expectations/continue_pipeline_state_first_run.json").read_text()
    )
    assert compatibility_hash(load_pipeline(pipeline)) == state["compatibility_hash"]


QUERIES = [
    (("--env", "env-query-asset", "--output", "json", "--asset",
      "test-pipelines/asset-query-pipeline/assets/products.sql"), "test-pipelines/asset-query-pipeline/expected.json"),
    (("--env", "env-query-var", "--connection", "duckdb-query-var", "--query", "SELECT '{{ my_var }}' AS val;", "--var",
      "my_var=test-value", "--output", "json"), "test-pipelines/query-var-pipeline/expected-direct.json"),
    (("--env", "env-query-var", "--output", "json", "--asset", "test-pipelines/query-var-pipeline/assets/greet.sql",
      "--var", "greeting=hello-world"), "test-pipelines/query-var-pipeline/expected-asset.json"),
    (("--env", "env-query-var", "--connection", "duckdb-query-var", "--query",
      "SELECT '{{ var1 }}' AS first, '{{ var2 }}' AS second;", "--var", "var1=aaa", "--var", "var2=bbb", "--output",
      "json"), "test-pipelines/query-var-pipeline/expected-multi.json"),
    (("--env", "env-query-var", "--connection", "duckdb-query-var", "--query", "SELECT DATE('{{ dt }}') AS d;", "--var",
      "dt=2026-01-23", "--output", "json"), "test-pipelines/query-var-pipeline/expected-date.json"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expectation"), QUERIES)
def test_query_documents(tests_folder, args, expectation):
    (tests_folder / "duckdb-files").mkdir(exist_ok=True)
    assert bruin(tests_folder, "query", *args) == json.loads((UPSTREAM / expectation).read_text())


RENDERED = [
    (("test-pipelines/variables-interpolation/assets/users.sql",),
     ["CREATE TABLE public.users", "SELECT 'jhon' as name", "SELECT 'erik' as name"]),
    (("--var", '{"users": ["mark", "nicholas"]}', "test-pipelines/variables-interpolation/assets/users.sql"),
     ["CREATE TABLE public.users", "SELECT 'mark' as name", "SELECT 'nicholas' as name"]),
    (("--var", 'users=["mark", "nicholas"]', "test-pipelines/variables-interpolation/assets/users.sql"),
     ["CREATE TABLE public.users", "SELECT 'mark' as name", "SELECT 'nicholas' as name"]),
    (("--start-date", "2024-01-15", "--end-date", "2024-01-31", "--output", "json",
      "test-pipelines/start-date-flags-test/assets/date_capture.sql"), ["'2024-01-15'", "'2024-01-31'"]),
    (("--start-date", "2024-01-15", "--end-date", "2024-01-31",
      "test-pipelines/render-template-this-pipeline/assets/test_full_refresh.sql"),
     ["'render_this.test_full_refresh' AS asset_name", "'INCREMENTAL_MODE' AS refresh_mode",
      "'2024-01-15' AS start_date"]),
    (("--full-refresh", "--start-date", "2024-01-15", "--end-date", "2024-01-31",
      "test-pipelines/render-template-this-pipeline/assets/test_full_refresh.sql"),
     ["'render_this.test_full_refresh' AS asset_name", "'FULL_REFRESH_MODE' AS refresh_mode",
      "'2020-01-01' AS start_date"]),
    (("--start-date", "2024-01-01", "--end-date", "2024-01-02", "--output", "json",
      "test-pipelines/schema-prefix-test/assets/check_prefix_sql.sql"), ["'' as prefix"]),
]  # fmt: skip
DDL = ["CREATE TABLE IF NOT EXISTS test.customers", "customer_id INTEGER", "name VARCHAR", "email VARCHAR",
       "created_at TIMESTAMP", "PRIMARY KEY (customer_id)"]  # fmt: skip
RENDERED_DDL = [
    (("test-pipelines/duckdb-materialization-ddl/assets/schema.sql",), DDL),
    (("--output", "json", "test-pipelines/duckdb-materialization-ddl/assets/schema.sql"), DDL),
    (("--start-date", "2024-01-15", "--end-date", "2024-01-31",
      "test-pipelines/start-date-flags-test/assets/date_capture.sql"), ["CREATE TABLE IF NOT EXISTS date_capture"]),
]  # fmt: skip


@pytest.mark.parametrize(("command", "args", "contained"),
                         [("render", *case) for case in RENDERED] + [("render-ddl", *case) for case in RENDERED_DDL])
def test_render_and_render_ddl(tests_folder, command, args, contained):
    """Upstream's `render-*` and `render-ddl-*` integration tests: exit 0 and stdout containing each text (in
    JSON, the query holds them)."""
    done = subprocess.run([sys.executable, "-m", "pybruin", command, *args], cwd=tests_folder, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = json.loads(done.stdout)["query"] if "json" in args else done.stdout
    for fragment in contained:
        assert fragment in text
