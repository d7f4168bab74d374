"""The run context: dates, run id and variables every asset sees, as env vars or template values."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from pybruin.errors import BruinError
from pybruin.records import Record, field

_DATE_LAYOUTS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%d %b %Y",
    "%d %b %Y %H:%M",
    "%d %b %Y %H:%M:%S",
)


_LONG_FRACTION = re.compile(r"(?<=:\d\d)(\.\d+)")


def parse_date(text: str, flag: str) -> datetime:
    """Parse a --start-date/--end-date value; a value without a zone is UTC."""
    value = text.strip().replace("T", " ", 1)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # Go reads any number of fraction digits (the VS Code extension sends nanoseconds); keep microseconds.
    value = _LONG_FRACTION.sub(lambda match: match[1][:7], value)
    for layout in _DATE_LAYOUTS:
        try:
            parsed = datetime.strptime(value, layout)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise BruinError(f"invalid {flag} '{text}': use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]")


def default_interval(today: date | None = None) -> tuple[datetime, datetime]:
    """Yesterday, from its first to its last microsecond, in UTC."""
    yesterday = (today or date.today()) - timedelta(days=1)
    start = datetime.combine(yesterday, time.min, tzinfo=UTC)
    return start, datetime.combine(yesterday, time.max, tzinfo=UTC)


def format_timestamp(moment: datetime) -> str:
    """Bruin's timestamp form: microseconds always, `Z` for UTC, `+HH:MM` otherwise."""
    base = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    offset = moment.utcoffset()
    if not offset:
        return base + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{base}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


_RUN_ID = re.compile(r"[A-Za-z0-9_.:+-]{1,200}")


def new_run_id(environ: Mapping[str, str]) -> str:
    """`BRUIN_RUN_ID` when given, else upstream's timestamp and a suffix: the microseconds, then a random part.

    Upstream's ids have one-second resolution, so runs started together would share a log and a manifest;
    the suffix keeps them apart, and keeps a project's ids (its run history, `logs/runs/<pipeline>/`) sorting in
    the order the runs started, within a second too. A given id names files under `logs/`, so it may not name a
    path.
    """
    given = environ.get("BRUIN_RUN_ID")
    if given:
        if not _RUN_ID.fullmatch(given) or ".." in given or given.startswith("."):
            raise BruinError(
                "invalid BRUIN_RUN_ID: use letters, digits and _ . : + - only, without '..' or a leading '.'"
            )
        return given
    now = datetime.now()
    return f"{now:%Y_%m_%d_%H_%M_%S}_{now.microsecond:06d}{os.urandom(2).hex()}"


_VAR_NAME = re.compile(r"^[A-Za-z_][\w-]*$")


def parse_var_overrides(values: Sequence[str]) -> dict[str, object]:
    """`--var k=<json>` (repeatable) or `--var '{"k": ...}'`; values must be JSON."""
    overrides: dict[str, object] = {}
    for raw in values:
        text = raw.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BruinError(f"invalid --var value: not a JSON object ({exc.msg})") from None
            overrides.update(parsed)
            continue
        name, sep, value = text.partition("=")
        if not sep or not _VAR_NAME.match(name.strip()):
            raise BruinError(f"invalid --var '{raw}': expected name=<json value>, e.g. count=42 or env='\"prod\"'")
        try:
            overrides[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            raise BruinError(
                f"invalid --var '{name.strip()}': the value must be JSON, e.g. {name.strip()}=42, "
                f"{name.strip()}=true or {name.strip()}='\"text\"'"
            ) from None
    return overrides


def resolve_variables(
    declared: Mapping[str, Mapping[str, object]], overrides: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """Variable values (defaults, then overrides) and their schemas without the defaults."""
    for name in overrides:
        if name not in declared:
            raise BruinError(f'no such variable "{name}"')
    values = {name: overrides.get(name, spec.get("default")) for name, spec in declared.items()}
    schema = {name: {k: v for k, v in spec.items() if k != "default"} for name, spec in declared.items()}
    return values, schema


class RunContext(Record):
    """What every asset of one run is told about the run."""

    start: datetime
    end: datetime
    execution: datetime
    run_id: str
    pipeline: str
    full_refresh: bool = False
    commit: str = ""
    schema_prefix: str = ""
    variables: dict[str, object] = field(default_factory=dict)
    variables_schema: dict[str, object] = field(default_factory=dict)
    #: `--apply-interval-modifiers`: shift each asset's dates by its `interval_modifiers`
    apply_interval_modifiers: bool = False
    #: the environment's `config.full_refresh_restricted`: no asset is rebuilt by `--full-refresh`
    refresh_restricted: bool = False

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise BruinError(
                f"start date {format_timestamp(self.start)} is after end date {format_timestamp(self.end)}"
            )

    def template_values(
        self, asset_name: str, *, start: datetime | None = None, end: datetime | None = None,
        full_refresh: bool | None = None,
    ) -> dict[str, object]:
        """The Jinja context of a SQL asset: the run, never its secrets. `start`, `end` and `full_refresh`
        replace the run's for one asset (interval modifiers, a restricted full refresh)."""
        values = date_values(start or self.start, end or self.end, self.execution)
        values.update(
            pipeline=self.pipeline,
            run_id=self.run_id,
            full_refresh=self.full_refresh if full_refresh is None else full_refresh,
            commit_hash=self.commit,
            schema_prefix=self.schema_prefix,
            this=asset_name,
            var=dict(self.variables),
        )
        return values


def date_values(start: datetime, end: datetime, execution: datetime) -> dict[str, object]:
    """`start_date`, `start_date_nodash`, `start_datetime`, `start_timestamp`, and the same for `end` and
    `execution`, formatted as upstream formats them."""
    values: dict[str, object] = {}
    for prefix, moment in (("start", start), ("end", end), ("execution", execution)):
        values[f"{prefix}_date"] = moment.strftime("%Y-%m-%d")
        values[f"{prefix}_date_nodash"] = moment.strftime("%Y%m%d")
        values[f"{prefix}_datetime"] = moment.strftime("%Y-%m-%dT%H:%M:%S")
        values[f"{prefix}_timestamp"] = format_timestamp(moment)
    return values


def make_context(
    *,
    start_date: str | None,
    end_date: str | None,
    variables: Sequence[str],
    declared: Mapping[str, Mapping[str, object]],
    run_id: str,
    pipeline: str,
    commit: str = "",
    full_refresh: bool = False,
    schema_prefix: str = "",
    refresh_restricted: bool = False,
    apply_interval_modifiers: bool = False,
) -> RunContext:
    """The context of a run (or a render) from what the user gave: dates as typed (default: yesterday), and
    `--var` overrides of the pipeline's declared variables."""
    start, end = default_interval()
    if start_date:
        start = parse_date(start_date, "--start-date")
    if end_date:
        end = parse_date(end_date, "--end-date")
    values, schema = resolve_variables(declared, parse_var_overrides(variables))
    return RunContext(
        start=start,
        end=end,
        execution=execution_time(),
        run_id=run_id,
        pipeline=pipeline,
        full_refresh=full_refresh,
        commit=commit,
        schema_prefix=schema_prefix,
        variables=values,
        variables_schema=schema,
        apply_interval_modifiers=apply_interval_modifiers,
        refresh_restricted=refresh_restricted,
    )


def execution_time() -> datetime:
    return datetime.now(UTC)
