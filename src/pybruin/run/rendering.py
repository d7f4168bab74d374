"""An asset's SQL as the run sees it: its Jinja context, any SQL text of it rendered, its full script.

`AssetRenderer` is the one place that knows how a run renders SQL for an asset, so `bruin run`, `bruin
render` and the check queries agree: the run's dates (shifted by the asset's `interval_modifiers` with
`--apply-interval-modifiers`), `full_refresh` (false for an asset whose full refresh is restricted),
`this` (the asset's name with the environment's schema prefix), the pipeline's variables and macros,
and the `bruin.*` helpers of the asset's platform. Secrets are never in the context.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.pipeline.hooks import SQL_ASSET_TYPES as HOOK_TYPES
from pybruin.pipeline.intervals import IntervalError, parse_rendered
from pybruin.pipeline.materialization import Materialization
from pybruin.pipeline.model import Asset, Hooks, Pipeline, TimeModifier
from pybruin.records import replace
from pybruin.run.context import RunContext, format_timestamp, make_context

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from pybruin.config.connections import Connection
    from pybruin.masking import Masker
    from pybruin.run.templating import Macros
    from pybruin.workspace import ProjectSettings

# Templating, the `bruin.*` helpers and Go's date arithmetic are imported by the methods that render or
# shift: a run of Python assets without interval modifiers needs none of them.

#: The run id `bruin render` renders with, as upstream's.
RENDER_RUN_ID = "your-run-id"


def shift(moment: datetime, modifier: TimeModifier) -> datetime:
    """Go's `AddDate(0, months, days)`, then hours, minutes, seconds, milliseconds and nanoseconds."""
    from pybruin.run.godates import add_date

    moved = add_date(moment, months=modifier.months, days=modifier.days)
    return moved + timedelta(
        hours=modifier.hours,
        minutes=modifier.minutes,
        seconds=modifier.seconds,
        milliseconds=modifier.milliseconds,
        microseconds=modifier.nanoseconds // 1000,
    )


class AssetRenderer:
    """Renders the SQL of one pipeline's assets for one run (or one `bruin render`)."""

    def __init__(self, context: RunContext, pipeline: Pipeline, *, macros: Macros | None = None) -> None:
        self.context = context
        self.pipeline = pipeline
        self._macros = macros

    @property
    def macros(self) -> Macros:
        if self._macros is None:
            from pybruin.run.templating import load_macros

            self._macros = load_macros(self.pipeline.directory)
        return self._macros

    def restricted(self, asset: Asset) -> bool:
        """Whether `--full-refresh` leaves this asset's table alone (its own, or its environment's rule)."""
        return self.context.refresh_restricted or asset.refresh_restricted is True

    def full_refresh(self, asset: Asset) -> bool:
        """Whether this run rebuilds the asset from scratch."""
        return self.context.full_refresh and not self.restricted(asset)

    def interval(self, asset: Asset) -> tuple[datetime, datetime]:
        """The run's start and end for this asset: shifted by its modifiers with `--apply-interval-modifiers`."""
        start, end = self.context.start, self.context.end
        modifiers = asset.interval_modifiers
        if not self.context.apply_interval_modifiers:
            return start, end
        return shift(start, self._resolve(asset, "start", modifiers.start)), shift(
            end, self._resolve(asset, "end", modifiers.end)
        )

    def values(self, asset: Asset) -> dict[str, object]:
        """The asset's Jinja context."""
        from pybruin.platforms.base import prefixed_name
        from pybruin.run.sql_helpers import helpers_for

        start, end = self.interval(asset)
        values = self.context.template_values(
            prefixed_name(asset.name, self.context.schema_prefix), start=start, end=end,
            full_refresh=self.full_refresh(asset),
        )  # fmt: skip
        values["bruin"] = helpers_for(asset.type)
        return values

    def render(self, asset: Asset, text: str, *, extra: Mapping[str, object] | None = None) -> str:
        """Any SQL text of the asset (its body, a hook, a custom check) rendered as the run renders it;
        `extra` adds values to the context (`bruin query --var`)."""
        from pybruin.run.templating import render_sql

        secret_names = {s.key for s in asset.secrets} | {s.inject_as for s in asset.secrets}
        values = {**self.values(asset), **(extra or {})}
        return render_sql(text, values, asset_name=asset.name, secret_names=secret_names, macros=self.macros)

    def body(self, asset: Asset) -> str:
        """The asset's SQL rendered."""
        return self.render(asset, asset.content)

    def hooks(self, asset: Asset) -> Hooks:
        """The asset's hooks rendered and trimmed; an error names the hook (1-based), as upstream's does."""
        from pybruin.run.templating import TemplateError

        rendered = {}
        for side, queries in (("pre", asset.hooks.pre), ("post", asset.hooks.post)):
            texts = []
            for number, query in enumerate(queries, start=1):
                try:
                    texts.append(self.render(asset, query).strip())
                except TemplateError as exc:
                    raise BruinError(
                        f"Failed to render hooks: error rendering hooks for asset {asset.name}: "
                        f"failed to render {side} hook {number}: {exc.detail}"
                    ) from None
            rendered[side] = tuple(texts)
        return Hooks(rendered["pre"], rendered["post"], asset.hooks.applicable_types)

    def check_hooks(self, assets: list[Asset]) -> None:
        """Render every SQL asset's hooks once before anything runs, as upstream does: a broken hook
        stops the run."""
        for asset in assets:
            if asset.type in HOOK_TYPES and (asset.hooks.pre or asset.hooks.post):
                self.hooks(asset)

    def time_window(self, asset: Asset) -> tuple[str, str]:
        """The interval a `time_interval` asset replaces: dates or timestamps by its `time_granularity`."""
        start, end = self.interval(asset)
        if Materialization.of(asset.materialization).time_granularity == "date":
            return start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
        return format_timestamp(start), format_timestamp(end)

    def sql(self, asset: Asset, connection: Connection | None = None, *, raw: bool = False) -> str:
        """The SQL the run executes for the asset (assuming its table exists): the rendered body
        materialized by its strategy, wrapped in its hooks; with `raw`, or for assets that are not SQL
        assets of a platform, the rendered body alone. What `bruin render` prints."""
        from pybruin.platforms import SQL_ASSET_TYPES
        from pybruin.platforms.run import asset_sql

        body = self.body(asset)
        if raw or asset.type not in SQL_ASSET_TYPES:
            return body
        return asset_sql(
            asset,
            body,
            connection,
            schema_prefix=self.context.schema_prefix,
            full_refresh=self.full_refresh(asset),
            interval=self.time_window(asset),
            hooks=self.hooks(asset),
        )

    def _resolve(self, asset: Asset, side: str, modifier: TimeModifier) -> TimeModifier:
        """A template modifier rendered with the unshifted run (no macros) and parsed."""
        if not modifier.template:
            return modifier
        from pybruin.platforms.base import prefixed_name
        from pybruin.run.sql_helpers import DEFAULT
        from pybruin.run.templating import NO_MACROS, TemplateError, render_sql

        values = self.context.template_values(
            prefixed_name(asset.name, self.context.schema_prefix), full_refresh=self.full_refresh(asset)
        )
        values.update(commit_hash="", schema_prefix="", bruin=DEFAULT)
        prefix = f"failed to resolve {side} interval modifier template for asset {asset.name}"
        try:
            rendered = render_sql(modifier.template, values, asset_name=asset.name, macros=NO_MACROS).strip()
        except TemplateError as exc:
            raise BruinError(f"{prefix}: failed to render interval modifier template: {exc.detail}") from None
        try:
            return parse_rendered(rendered)
        except IntervalError as exc:
            raise BruinError(f"{prefix}: failed to parse rendered template result '{rendered}': {exc}") from None


def render_asset(
    settings: ProjectSettings,
    asset_file: Path,
    *,
    start_date: str | None = None,
    end_date: str | None = None,
    full_refresh: bool = False,
    apply_interval_modifiers: bool = False,
    variables: tuple[str, ...] = (),
    raw: bool = False,
    ddl: bool = False,
    masker: Masker | None = None,
) -> str:
    """`bruin render <asset file>`: the SQL the run executes for the asset, rendered with the run's context
    (run id `your-run-id`, interval modifiers applied when asked even with a full refresh, as upstream's
    render does), materialized and wrapped in its hooks unless `raw`. The JSON form is `{"query": <this>}`.
    With `ddl` (`bruin render-ddl`) the materialization strategy is `ddl`, as upstream forces it.

    No secret store is opened and no connection is made; secrets are never in the context. `masker`, when
    given, learns the sensitive values of the environment's connections first, so that what the caller
    prints is masked as a run's output is.
    """
    from pybruin.pipeline.connections import effective_connection
    from pybruin.workspace import load_target, open_project, protect_environment

    project = open_project(settings)
    if masker is not None:
        protect_environment(project, masker)
    pipeline, asset = load_target(asset_file)
    if asset is None:
        raise BruinError(f"'{asset_file}' is not an asset file")
    environment = project.environment
    context = make_context(
        start_date=start_date, end_date=end_date, variables=variables, declared=pipeline.variables,
        run_id=RENDER_RUN_ID, pipeline=pipeline.name, commit=pipeline.commit, full_refresh=full_refresh,
        schema_prefix=environment.schema_prefix, refresh_restricted=environment.full_refresh_restricted,
        apply_interval_modifiers=apply_interval_modifiers,
    )  # fmt: skip
    name = effective_connection(asset, pipeline)
    connection = environment.connections.get(name) if name else None  # only for its default schema
    if ddl and asset.materialization.get("type"):
        asset = replace(asset, materialization={**asset.materialization, "strategy": "ddl"})
    return AssetRenderer(context, pipeline).sql(asset, connection, raw=raw)
