"""Structural validation and the connection pre-flight."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.pipeline import Asset, Dependency, Issue, Pipeline, SecretMapping, load_pipeline, validate_pipeline

ROOT = Path("/project/p")


def asset(name: str = "a", type_: str = "python", **fields: object) -> Asset:
    file = ROOT / "assets" / f"{name or 'nameless'}.py"
    return Asset(name=name, type=type_, definition_file=file, executable_file=file, **fields)


def pipeline(*assets: Asset, name: str = "p") -> Pipeline:
    return Pipeline(name=name, directory=ROOT, definition_file=ROOT / "pipeline.yml", assets=list(assets))


def messages(issues: list[Issue]) -> list[str]:
    return [issue.message for issue in issues]


def test_clean_pipeline_has_no_issues() -> None:
    clean = pipeline(
        asset("raw", "duckdb.sql", connection="duck", secrets=[SecretMapping("duck", "duck")]),
        asset("clean", "python", depends=["raw"], secrets=[SecretMapping("KEY1", "INJECTED1")]),
    )
    assert validate_pipeline(clean, None) == []
    assert validate_pipeline(clean, {"duck", "KEY1"}, "environment 'dev'") == []


def test_issue_carries_severity_asset_and_file() -> None:
    issues = validate_pipeline(pipeline(asset("bad name")), None)
    assert issues == [
        Issue(
            "error",
            "bad name",
            ROOT / "assets" / "bad name.py",
            "A task name must be made of alphanumeric characters, dashes, dots and underscores",
        )
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", ["A task must have a name"]),
        ("ok.name-1_x", []),
        ("café", ["A task name must be made of alphanumeric characters, dashes, dots and underscores"]),
        ("trailing\n", ["A task name must be made of alphanumeric characters, dashes, dots and underscores"]),
    ],
)
def test_asset_names(name: str, expected: list[str]) -> None:
    assert messages(validate_pipeline(pipeline(asset(name)), None)) == expected


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("", ["A task must have a type, e.g. 'bq.sql' for a GoogleCloudPlatform SQL task"]),
        ("duckdb.sql", []),
        ("duckdb.seed", []),
        ("pg.sensor.table", []),
        ("bq.sensor.query", []),
        ("motherduck.sql", []),
        ("ingestr", []),
        ("empty", []),
        ("r", []),
        ("duckdb.sensor.table", ["Invalid asset type 'duckdb.sensor.table'"]),
        ("nosuch.sql", ["Invalid asset type 'nosuch.sql'"]),
        ("Python", ["Invalid asset type 'Python'"]),
    ],
)
def test_asset_types(type_: str, expected: list[str]) -> None:
    assert messages(validate_pipeline(pipeline(asset("a", type_)), None)) == expected


def test_dependencies_must_exist() -> None:
    issues = validate_pipeline(
        pipeline(
            asset("a", depends=["b", "ghost", ""], other_depends=[Dependency("asset", "phantom", "symbolic")]),
            asset("b", other_depends=[Dependency("uri", "bq://not.checked")]),
        ),
        None,
    )
    assert [(issue.asset, issue.message) for issue in issues] == [
        ("a", "Dependency 'ghost' does not exist"),
        ("a", "Assets cannot have empty dependencies"),
        ("a", "Dependency 'phantom' does not exist"),
    ]


def test_cycles_are_pipeline_issues() -> None:
    issues = validate_pipeline(
        pipeline(asset("a", depends=["b"]), asset("b", depends=["a"]), asset("c", depends=["c"])), None
    )
    assert issues == [
        Issue("error", None, ROOT / "pipeline.yml", "dependency cycle: a -> b -> a"),
        Issue("error", None, ROOT / "pipeline.yml", "dependency cycle: c -> c"),
    ]


def test_self_dependency_is_reported() -> None:
    assert messages(validate_pipeline(pipeline(asset("c", depends=["c"])), None)) == ["dependency cycle: c -> c"]


def test_secrets_need_a_key() -> None:
    issues = validate_pipeline(pipeline(asset("a", secrets=[SecretMapping("", "X"), SecretMapping("  ", "  ")])), None)
    assert messages(issues) == ["Secrets must have a `key` attribute"] * 2


def test_two_secrets_on_one_variable_warn() -> None:
    issues = validate_pipeline(
        pipeline(asset("a", secrets=[SecretMapping("A", "X"), SecretMapping("A", "X"), SecretMapping("B", "X")])), None
    )
    assert [(issue.severity, issue.message) for issue in issues] == [
        ("warning", "secrets 'A' and 'B' are both injected as 'X'; only 'B' will be visible")
    ]


def test_python_materialization_needs_a_connection() -> None:
    issues = validate_pipeline(pipeline(asset("a", materialization={"type": "table"})), None)
    assert messages(issues) == ["A task with materialization must have a connection defined"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "",
            "The pipeline name cannot be empty, it must be a valid name made of alphanumeric characters, "
            "dashes, dots and underscores",
        ),
        ("has space", "The pipeline name must be made of alphanumeric characters, dashes, dots and underscores"),
    ],
)
def test_pipeline_name(name: str, expected: str) -> None:
    assert validate_pipeline(pipeline(name=name), None) == [Issue("error", None, ROOT / "pipeline.yml", expected)]


# --- connection pre-flight -----------------------------------------------------------------------------


def test_unknown_secret_keys_and_connections_are_reported_per_asset_and_key() -> None:
    issues = validate_pipeline(
        pipeline(
            asset(
                "a",
                connection="missing-conn",
                secrets=[
                    SecretMapping("KEY1", "INJECTED1"),
                    SecretMapping("KEY9", "K9"),
                    SecretMapping("KEY9", "K9_AGAIN"),
                    SecretMapping("missing-conn", "missing-conn"),
                ],
            ),
            asset(
                "b",
                "duckdb.sql",
                connection="duck",
                secrets=[SecretMapping("duck", "duck"), SecretMapping("OTHER", "O")],
            ),
        ),
        {"KEY1", "duck"},
        "environment 'staging'",
    )
    assert [(issue.severity, issue.asset, issue.message) for issue in issues] == [
        ("error", "a", "connection 'missing-conn' is not defined in environment 'staging'"),
        ("error", "a", "secret 'KEY9' is not defined in environment 'staging'"),
        ("error", "b", "secret 'OTHER' is not defined in environment 'staging'"),
    ]


def test_connection_check_is_skipped_without_known_connections() -> None:
    assert validate_pipeline(pipeline(asset("a", connection="x", secrets=[SecretMapping("x", "x")])), None) == []


def test_preflight_never_reveals_connection_values() -> None:
    canary = "canary-value-5b1d0c"
    known = {"KEY1": canary, "duck": canary}  # a mapping works as the container of names
    issues = validate_pipeline(
        pipeline(asset("a", connection="nope", secrets=[SecretMapping("KEY1", "K"), SecretMapping("GONE", "G")])),
        known,
        "environment 'default'",
    )
    assert messages(issues) == [
        "connection 'nope' is not defined in environment 'default'",
        "secret 'GONE' is not defined in environment 'default'",
    ]
    assert all(canary not in repr(issue) for issue in issues)


def test_happy_path_fixture_from_disk_validates(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "pipeline.yml").write_text("name: happy-path\n")
    (tmp_path / "assets" / "products.sql").write_text(
        "/* @bruin\nname: products\ntype: duckdb.sql\nconnection: duckdb-default\n@bruin */\nselect 1\n"
    )
    (tmp_path / "assets" / "happy.py").write_text(
        '""" @bruin\nname: python_asset_happy\nimage: python:3.11\ndepends: [products]\nsecrets:\n'
        '  - key: KEY1\n    inject_as: INJECTED1\n  - key: chess-default\n@bruin """\nimport os\n'
    )
    loaded = load_pipeline(tmp_path)
    assert validate_pipeline(loaded, {"KEY1", "chess-default", "duckdb-default"}, "environment 'default'") == []
    assert messages(validate_pipeline(loaded, {"KEY1", "duckdb-default"}, "environment 'default'")) == [
        "secret 'chess-default' is not defined in environment 'default'"
    ]
