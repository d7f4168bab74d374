"""Structural checks of a loaded pipeline (Bruin's critical lint rules), plus a connection pre-flight.

The pre-flight goes beyond Bruin: given the names the selected environment defines, it reports every secret
key and asset connection that would fail at run time, before anything runs. Messages name assets, keys and
connections only; connection values are never looked at here.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator, Sequence
from pathlib import Path
from typing import Literal

from pybruin.durations import SECOND
from pybruin.errors import BruinError
from pybruin.pipeline.checks import check_problems
from pybruin.pipeline.dag import find_cycles
from pybruin.pipeline.hooks import SQL_ASSET_TYPES
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.needs import asset_needs
from pybruin.records import Record, field

Severity = Literal["error", "warning"]

# Bruin's asset types (reference §2.6): per platform, the kinds it offers, then the platform-less types.
_ALL_KINDS = "sql seed source sensor.query sensor.table"
_PLATFORM_KINDS = {
    **dict.fromkeys(
        ("athena", "bq", "clickhouse", "databricks", "ms", "pg", "rs", "sf", "synapse", "vertica"), _ALL_KINDS
    ),
    "duckdb": "sql seed source sensor.query",
    **dict.fromkeys(("fabric", "fw", "my"), "sql seed sensor.query sensor.table"),
    **dict.fromkeys(("trino", "dremio", "sail"), "sql sensor.query"),
    "oracle": "sql source",
    "motherduck": "sql",
}
_OTHER_TYPES = """
    python r empty ingestr dbt agent.claude_code dataproc_serverless.pyspark emr_serverless.pyspark
    emr_serverless.spark s3.sensor.key_sensor mongo.source dynamodb elasticsearch starrocks domo gooddata gsheets
    grafana looker looker_studio metabase modebi powerbi qliksense qlikview quicksight quicksight.dashboard
    quicksight.dataset redash sisense superset tableau tableau.dashboard tableau.datasource tableau.workbook
    tableau.worksheet
"""
KNOWN_TYPES = frozenset(
    [
        *_OTHER_TYPES.split(),
        *(f"{platform}.{kind}" for platform, kinds in _PLATFORM_KINDS.items() for kind in kinds.split()),
    ]
)

_VALID_NAME = re.compile(r"[\w.-]+", re.ASCII)
#: The strategies upstream loads the data of a Python asset with.
PYTHON_STRATEGIES = ("create+replace", "append", "merge", "delete+insert")
# What execve can pass as a variable name: anything but '=' and NUL; control characters are refused too.
_ENV_NAME = re.compile(r"[^=\x00-\x1f\x7f]+")


class Issue(Record):
    """One finding of `bruin validate`: an error or a warning, the asset (None: the whole pipeline), the file."""

    severity: Severity
    asset: str | None  # None for pipeline-wide issues
    file: Path
    message: str
    #: The rule that found it, named as upstream names its lint rules (pybruin's own rules have their own names).
    rule: str = field(default="", compare=False)


def validate_pipeline(
    pipeline: Pipeline, known_connections: Container[str] | None, store: str = "environment 'default'"
) -> list[Issue]:
    """Every problem found: pipeline-wide ones, then per asset in file order, then dependency cycles.

    `known_connections` (the names `store` holds, e.g. "environment 'dev'" or "secrets backend 'vault'")
    enables the pre-flight check; None skips it, as upstream's `bruin validate` does.
    """
    issues = [
        Issue("error", None, pipeline.definition_file, message, rule) for rule, message in _pipeline_problems(pipeline)
    ]
    names = {asset.name for asset in pipeline.assets}
    for asset in pipeline.assets:
        for severity, rule, message in _asset_problems(asset, pipeline, names, known_connections, store):
            issues.append(Issue(severity, asset.name or None, asset.definition_file, message, rule))
    for cycle in find_cycles(pipeline):
        message = f"dependency cycle: {' -> '.join(cycle)}"
        issues.append(Issue("error", None, pipeline.definition_file, message, "acyclic-pipeline"))
    return issues


def require_valid(pipeline: Pipeline, issues: Sequence[Issue] | None = None) -> None:
    """Refuse a pipeline with structural errors, before anything is built from it (a run, a DAG); `issues` are
    the ones already found by `validate_pipeline`, when the caller has them."""
    found = validate_pipeline(pipeline, None) if issues is None else issues
    problems = [issue for issue in found if issue.severity == "error"]
    if problems:
        raise BruinError("validation failed: " + "; ".join(f"{i.asset or i.file}: {i.message}" for i in problems))


def _pipeline_problems(pipeline: Pipeline) -> Iterator[tuple[str, str]]:
    if not pipeline.name:
        yield (
            "valid-pipeline-name",
            "The pipeline name cannot be empty, it must be a valid name made of alphanumeric characters, "
            "dashes, dots and underscores"
        )
    elif not _VALID_NAME.fullmatch(pipeline.name):
        yield (
            "valid-pipeline-name",
            "The pipeline name must be made of alphanumeric characters, dashes, dots and underscores",
        )
    if pipeline.default_timeout and pipeline.default_timeout < SECOND:
        yield "valid-timeout", "Pipeline default timeout must be at least 1s"
    defaults = pipeline.definition.get("default")
    hooks = defaults.get("hooks") if isinstance(defaults, dict) else None
    types = hooks.get("applicable_type") if isinstance(hooks, dict) else None
    for asset_type in types if isinstance(types, list) else [types] if types else []:
        if asset_type not in SQL_ASSET_TYPES:
            yield (
                "default-hooks-applicable-types",
                f'Invalid applicable_type "{asset_type}" in default hooks: hooks are only supported for SQL asset '
                "types"
            )


def _asset_problems(
    asset: Asset, pipeline: Pipeline, names: set[str], known_connections: Container[str] | None, store: str
) -> Iterator[tuple[Severity, str, str]]:
    if not asset.name:
        yield "error", "task-name-valid", "A task must have a name"
    elif not _VALID_NAME.fullmatch(asset.name):
        yield (
            "error",
            "task-name-valid",
            "A task name must be made of alphanumeric characters, dashes, dots and underscores",
        )

    if not asset.type:
        yield "error", "valid-task-type", "A task must have a type, e.g. 'bq.sql' for a GoogleCloudPlatform SQL task"
    elif asset.type not in KNOWN_TYPES:
        yield "error", "valid-task-type", f"Invalid asset type '{asset.type}'"

    for dependency in [*asset.depends, *(dep.value for dep in asset.other_depends if dep.kind == "asset")]:
        if not dependency:
            yield "error", "dependency-exists", "Assets cannot have empty dependencies"
        elif dependency not in names:
            yield "error", "dependency-exists", f"Dependency '{dependency}' does not exist"

    if asset.type == "python" and asset.materialization.get("type") == "table":
        yield from _python_materialization_problems(asset)

    if asset.timeout and asset.timeout < SECOND:
        yield "error", "valid-timeout", "Asset timeout must be at least 1s"

    if asset.hooks.applicable_types:
        yield (
            "warning",
            "asset-hooks-applicable-type-ignored",
            "applicable_type has no effect on asset-level hooks; it only filters which asset types inherit pipeline "
            "default hooks.",
        )
    yield from _secret_problems(asset)
    yield from check_problems(asset, pipeline)
    if known_connections is not None:
        yield from _missing_connections(asset, pipeline, known_connections, store)


def _python_materialization_problems(asset: Asset) -> Iterator[tuple[Severity, str, str]]:
    """Upstream's `assets-python-validation` rule, in its words."""
    rule = "assets-python-validation"
    if not asset.connection:
        yield "error", rule, "A task with materialization must have a connection defined"
    if asset.materialization.get("incremental_predicate"):
        yield "error", rule, "Incremental predicate is not supported for Python assets"
    strategy = str(asset.materialization.get("strategy") or "")
    if strategy and strategy not in PYTHON_STRATEGIES:
        yield "error", rule, (
            f"Materialization strategy '{strategy}' is not supported for Python assets. "
            f"Supported strategies are: {', '.join(PYTHON_STRATEGIES)}"
        )


def _secret_problems(asset: Asset) -> Iterator[tuple[Severity, str, str]]:
    keys_by_variable: dict[str, str] = {}
    for secret in asset.secrets:
        if not secret.key.strip():
            yield "error", "secret-mapping-key-exists", "Secrets must have a `key` attribute"
            continue
        if not _ENV_NAME.fullmatch(secret.inject_as):
            yield "error", "secret-inject-as-valid", (
                f"secret '{_printable(secret.key)}' is injected as '{_printable(secret.inject_as)}', which is not a "
                "valid environment variable name (it may not contain '=', NUL or other control characters)"
            )
            continue
        earlier = keys_by_variable.setdefault(secret.inject_as, secret.key)
        if earlier != secret.key:
            yield (
                "warning",
                "secret-mapping-injected-once",
                (
                    f"secrets '{earlier}' and '{secret.key}' are both injected as '{secret.inject_as}'; "
                    f"only '{secret.key}' will be visible"
                ),
            )
            keys_by_variable[secret.inject_as] = secret.key


def _missing_connections(
    asset: Asset, pipeline: Pipeline, known_connections: Container[str], store: str
) -> Iterator[tuple[Severity, str, str]]:
    needs = asset_needs(asset, pipeline)
    for name in needs.names:
        if name not in known_connections:
            kind = "connection" if name == needs.connection else "secret"
            yield "error", f"{kind}-exists", f"{kind} '{name}' is not defined in {store}"


def _printable(text: str) -> str:
    """A name as it can be shown on one line: control characters escaped."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in text)
