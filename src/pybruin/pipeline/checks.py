"""Quality checks as assets declare them: upstream's built-in column checks, the ids and task names upstream
gives checks, and the rules `bruin validate` (and, before anything runs, `bruin run`) applies to them.

Upstream drops an unknown or repeated column check when it parses the asset, so a typo silently removes a
check; pybruin reports both instead. The SQL a check runs is the platform's business (`pybruin.platforms`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pybruin.pipeline.connections import effective_connection
from pybruin.pipeline.dag import downstream_of
from pybruin.pipeline.model import Asset, CheckValue, Column, ColumnCheck, Pipeline

#: Upstream's built-in column checks (`ValidQualityChecks`), in the order its catalogue lists them.
COLUMN_CHECKS = (
    "not_null", "unique", "positive", "non_negative", "negative", "min", "max", "accepted_values", "pattern",
    "relationships",
)  # fmt: skip

Problem = tuple[Literal["error", "warning"], str, str]
"""(severity, the rule's name, the message), as `pybruin.pipeline.validate` reports issues."""


def _sha256_hex(text: str) -> str:
    import hashlib  # only for assets with checks: OpenSSL costs a run without any

    return hashlib.sha256(text.encode()).hexdigest()


def column_check_id(asset: str, column: str, check: str) -> str:
    """Upstream's check id, what `--single-check` takes and `internal parse-asset` shows."""
    return _sha256_hex(f"{asset}-{column}-{check}")


def custom_check_id(asset: str, name: str) -> str:
    return _sha256_hex(f"{asset}-{name}")


def column_check_task(asset: str, column: str, check: str) -> str:
    """The task's name in the run's output: `<asset>:<column>:<check>`."""
    return f"{asset}:{column}:{check}"


def custom_check_task(asset: str, name: str) -> str:
    """`<asset>:custom-check:<name lower-cased, spaces as underscores>`."""
    return f"{asset}:custom-check:{name.lower().replace(' ', '_')}"


def is_int_list(value: CheckValue) -> bool:
    """A list value of whole numbers (an empty list counts as one, as upstream decodes it)."""
    return isinstance(value, tuple) and all(isinstance(item, int) for item in value)


def value_text(value: CheckValue) -> str:
    """A check value as upstream's messages show it: `[1, 2]`, `a, b`, `10`, `0.500000`, `true`."""
    if isinstance(value, tuple):
        items = ", ".join(map(str, value))
        return f"[{items}]" if is_int_list(value) else items
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:f}"
    return "" if value is None else str(value)


def value_problem(check: ColumnCheck) -> str | None:
    """Why the check's `value` cannot be used (upstream's run-time texts), or None when it can."""
    value = check.value
    if check.name in ("min", "max"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return f"unexpected value for {check.name} check, the value must be an int, float or string"
    elif check.name == "accepted_values":
        if not isinstance(value, tuple):
            return "unexpected value for accepted_values check, the values must to be an array"
        if not value:
            return "no values provided for accepted_values check"
    elif check.name == "pattern" and not isinstance(value, str):
        return f"unexpected value {value_text(value)} for pattern check, the value must be a string"
    return None


def check_problems(asset: Asset, pipeline: Pipeline) -> Iterator[Problem]:
    """Every problem with the asset's columns, column checks and custom checks."""
    seen_columns: set[str] = set()
    for column in asset.columns:
        if column.name.lower() in seen_columns:
            yield "error", "duplicate-column-names", f"Duplicate column name '{column.name}' found "
        seen_columns.add(column.name.lower())
        yield from _column_check_problems(column)
        yield from _foreign_key_problems(column, pipeline)
        yield from _relationships_warning(asset, column, pipeline)
    yield from _custom_check_problems(asset)
    if has_checks(asset) and effective_connection(asset, pipeline) is None:
        yield (
            "error",
            "check-connection",
            f"Quality checks of a {asset.type} asset run on the asset's connection; set 'connection' to the "
            "database that holds its table",
        )


def has_checks(asset: Asset) -> bool:
    return bool(asset.custom_checks) or any(column.checks for column in asset.columns)


def _column_check_problems(column: Column) -> Iterator[Problem]:
    rule = "valid-column-checks"
    if column.checks and not column.name:
        yield "error", rule, "A column with checks must have a name"
    seen: set[str] = set()
    for check in column.checks:
        if check.name not in COLUMN_CHECKS:
            yield (
                "error",
                rule,
                f"Column '{column.name}' has an unknown check '{check.name}'; available checks are: "
                + ", ".join(sorted(COLUMN_CHECKS)),
            )
            continue
        if check.name in seen:
            yield "error", rule, f"Column '{column.name}' has the check '{check.name}' more than once"
        seen.add(check.name)
        problem = value_problem(check)
        if problem:
            yield "error", rule, f"Column '{column.name}' has an invalid '{check.name}' check: {problem}"


def _foreign_key_problems(column: Column, pipeline: Pipeline) -> Iterator[Problem]:
    rule = "valid-column-metadata"
    if any(check.name == "relationships" for check in column.checks) and column.foreign_key is None:
        yield "error", rule, f"Column '{column.name}' has a relationships check without foreign_key metadata"
    key = column.foreign_key
    if key is None:
        return
    if not key.table:
        yield "error", rule, f"Column '{column.name}' has a foreign key without a referenced table"
    if not key.column:
        yield "error", rule, f"Column '{column.name}' has a foreign key without a referenced column"
    if not key.table or not key.column:
        return
    referenced = pipeline.asset(key.table)
    if referenced is None:
        yield (
            "error",
            rule,
            f"Column '{column.name}' has a foreign key referencing asset '{key.table}', which does not exist in "
            "the pipeline",
        )
    elif referenced.columns and all(other.name.lower() != key.column.lower() for other in referenced.columns):
        yield (
            "error",
            rule,
            f"Column '{column.name}' has a foreign key referencing column '{key.table}.{key.column}', which does "
            "not exist",
        )


def _relationships_warning(asset: Asset, column: Column, pipeline: Pipeline) -> Iterator[Problem]:
    """A blocking relationships check on an asset that the referenced asset depends on runs before that
    asset is refreshed (downstream assets wait for blocking checks)."""
    key = column.foreign_key
    if key is None or not key.table or key.table == asset.name:
        return
    if not any(check.name == "relationships" and check.blocks for check in column.checks):
        return
    if key.table in downstream_of(pipeline, asset.name):
        yield (
            "warning",
            "blocking-relationships-check-references-downstream",
            f"Column '{column.name}' has a blocking relationships check referencing downstream asset "
            f"'{key.table}'; the check runs before that asset is refreshed. Set blocking to false or restructure "
            "the dependencies",
        )


def _custom_check_problems(asset: Asset) -> Iterator[Problem]:
    names_by_task: dict[str, str] = {}
    for check in asset.custom_checks:
        if not check.name.strip():
            yield "error", "custom-check-name-exists", "A custom check must have a name"
            continue
        if not check.query.strip():
            yield "error", "custom-check-query-exists", f"Custom check '{check.name}' query cannot be empty"
        task = custom_check_task(asset.name, check.name)
        earlier = names_by_task.get(task)
        names_by_task[task] = check.name
        if earlier is not None:
            yield (
                "error",
                "custom-check-name-unique",
                f"Custom checks '{earlier}' and '{check.name}' have the same task name '{task}'; rename one",
            )
