"""`bruin lineage` (plain as upstream prints it, `-o json`, `--full`, upstream's error texts) and `bruin
render-ddl` (the declared columns as a CREATE TABLE, whatever strategy the asset names)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def chain(project):
    """raw -> staged -> report, and report also reads an external table; `other` stands apart."""
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - {name: duckdb-default, path: w.db}\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\ndefault:\n  depends: [other]\n")
    project.write("p/assets/raw.py", '"""@bruin\nname: raw\n@bruin"""\nprint(1)\n')
    project.write("p/assets/other.py", '"""@bruin\nname: other\n@bruin"""\nprint(1)\n')
    project.write("p/assets/nested/staged.sql", "/* @bruin\nname: shop.staged\ntype: duckdb.sql\ndepends: [raw]\n"
                                                "materialization:\n  type: table\n  strategy: merge\ncolumns:\n"
                                                "  - {name: id, type: integer, primary_key: true}\n"
                                                "  - {name: note, type: varchar, description: \"it's free text\"}\n"
                                                "@bruin */\nselect 1 as id, 'x' as note\n")  # fmt: skip
    report = "name: report\ntype: duckdb.sql\ndepends:\n  - shop.staged\n  - missing\n  - uri: bigquery://proj/ds/t\n"
    project.write("p/assets/report.sql", f"/* @bruin\n{report}@bruin */\nselect 1\n")
    return project


def test_direct_lineage_as_upstream_prints_it(chain):
    result = chain.bruin("lineage", "p/assets/nested/staged.sql")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "\nLineage: 'shop.staged'\n\nUpstream Dependencies\n========================\n- raw (assets/raw.py)\n"
        "\nTotal: 1\n\n\nDownstream Dependencies\n========================\n- report (assets/report.sql)\n\nTotal: 1\n"
    )
    alone = chain.bruin("lineage", "p/assets/other.py")
    assert alone.stdout.endswith(
        "Upstream Dependencies\n========================\nAsset has no upstream dependencies.\n\n\n"
        "Downstream Dependencies\n========================\nAsset has no downstream dependencies.\n"
    ), "the pipeline's default depends are not applied, as upstream builds lineage without them"


def test_full_lineage_and_json(chain):
    full = chain.bruin("lineage", "--full", "p/assets/report.sql")
    assert "- shop.staged (assets/nested/staged.sql)\n- raw (assets/raw.py)\n- bigquery://proj/ds/t (EXTERNAL)\n" \
           "\nTotal: 3\n" in full.stdout  # fmt: skip
    document = json.loads(chain.bruin("lineage", "-o", "json", "p/assets/nested/staged.sql").stdout)
    raw = chain.root / "p" / "assets" / "raw.py"
    assert document == {
        "name": "shop.staged", "type": "duckdb.sql",
        "upstreams": [{"name": "raw", "type": "python",
                       "executable_file": {"name": "raw.py", "path": str(raw), "content": ""},
                       "definition_file": {"name": "raw.py", "path": str(raw), "type": "comment"}}],
        "downstream": [{"name": "report", "type": "duckdb.sql",
                        "executable_file": {"name": "report.sql", "path": str(raw.with_name("report.sql")),
                                            "content": ""},
                        "definition_file": {"name": "report.sql", "path": str(raw.with_name("report.sql")),
                                            "type": "comment"}}],
    }  # fmt: skip
    report = json.loads(chain.bruin("lineage", "-o", "json", "--full", "p/assets/report.sql").stdout)
    assert [u["name"] for u in report["upstreams"]] == ["shop.staged", "raw", "bigquery://proj/ds/t"]
    assert report["upstreams"][-1] == {"name": "bigquery://proj/ds/t", "external": True}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "Please give an asset path to get lineage of: bruin lineage <path to the asset definition>)"),
        (("elsewhere.sql",), "Failed to find the pipeline this task belongs to: 'elsewhere.sql'"),
        (("p/assets",), "failed to find the asset with the given path, are you sure you have referred the right file?"),
    ],
)  # fmt: skip
def test_lineage_errors(chain, args, error):
    result = chain.bruin("lineage", *args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", error + "\n")


def test_render_ddl(chain):
    result = chain.bruin("render-ddl", "p/assets/nested/staged.sql")
    assert result.returncode == 0, result.output
    assert result.stdout == (
        "CREATE TABLE IF NOT EXISTS shop.staged (\n  id integer,\n  note varchar,\n  PRIMARY KEY (id)\n);\n"
        "COMMENT ON COLUMN shop.staged.note IS 'it''s free text';\n"
    )
    as_json = chain.bruin("render-ddl", "-o", "json", "--start-date", "2024-01-01", "p/assets/nested/staged.sql")
    assert json.loads(as_json.stdout) == {"query": result.stdout[:-1]} and not as_json.stdout.endswith("\n")
    plain = chain.bruin("render-ddl", "p/assets/report.sql")
    assert plain.stdout == "select 1\n", "without a materialization the body is shown as it is"
    missing = chain.bruin("render-ddl", "-o", "json")
    assert (missing.returncode, json.loads(missing.stdout)) == (
        1, {"error": "Please give an asset path to render: bruin render-ddl <path to the asset file>)"}
    )  # fmt: skip
