"""`bruin internal parse-pipeline` and `parse-asset`: upstream's pipeline and asset objects, field by field.

Field order is upstream's struct order; `omit_empty` marks its `omitempty` fields. Values that upstream
keeps as YAML wrote them (`parameters`, `meta`, `variables`, check values) are plain JSON values here.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from pybruin.documents.encoding import document, json_field

#: Any JSON value, as YAML produced it.
JSONValue = Any


@document
class ExecutableFile:
    name: str
    path: str
    content: str


@document
class DefinitionFile:
    name: str
    path: str
    type: str


@document
class PipelineFile:
    name: str
    path: str


@document
class UpstreamColumn:
    name: str
    usage: str = ""


@document
class Upstream:
    """One `depends` entry: `type` is `asset` or `uri`, `mode` `full` or `symbolic`."""

    type: str
    value: str
    metadata: dict[str, str] = json_field(omit_empty=True, default_factory=dict)
    columns: list[UpstreamColumn] = field(default_factory=list)
    mode: str = "full"


@document
class Materialization:
    type: str
    strategy: str
    partition_by: str
    cluster_by: list[str] | None
    incremental_key: str
    incremental_predicate: str
    time_granularity: str


@document
class EntityAttribute:
    entity: str
    attribute: str


@document
class ForeignKey:
    table: str
    column: str


@document
class ColumnUpstream:
    column: str
    table: str


@document
class ColumnCheck:
    """`id` is sha256 of `<asset>-<column>-<check>` with the asset's final name (also for an asset named after
    its path), the id `bruin run --single-check` takes."""

    id: str
    name: str
    value: JSONValue
    blocking: bool
    description: str
    retries: int | None
    notifications: JSONValue = json_field(omit_empty=True, default=None)


@document
class Column:
    entity_attribute: EntityAttribute | None
    name: str
    source_column: str
    type: str
    mask: str = json_field(omit_empty=True, default="")
    description: str = ""
    tags: list[str] = field(default_factory=list)
    primary_key: bool = False
    update_on_merge: bool = False
    merge_sql: str = ""
    nullable: bool = True
    default: JSONValue = ""
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    collation: str = ""
    foreign_key: ForeignKey | None = None
    owner: str = ""
    domains: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    checks: list[ColumnCheck] = field(default_factory=list)
    upstreams: list[ColumnUpstream] = field(default_factory=list)


@document
class CustomCheck:
    """`id` is sha256 of `<asset>-<check name>`."""

    id: str
    name: str
    description: str
    value: int
    count: int | None = json_field(omit_none=True, default=None)
    blocking: bool = True
    query: str = ""
    retries: int | None = None
    notifications: JSONValue = json_field(omit_empty=True, default=None)


@document
class Hook:
    query: str


@document
class Hooks:
    applicable_type: list[str] = json_field(omit_empty=True, default_factory=list)
    pre: list[Hook] = json_field(omit_empty=True, default_factory=list)
    post: list[Hook] = json_field(omit_empty=True, default_factory=list)


@document
class TimeModifier:
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0
    milliseconds: int = 0
    nanoseconds: int = 0
    cron_periods: int = 0
    template: str = ""


@document
class IntervalModifiers:
    start: TimeModifier | None
    end: TimeModifier | None


@document
class SecretMapping:
    secret_key: str
    injected_key: str


@document
class AssetDocument:
    """One asset as upstream's `Asset` struct serialises it."""

    id: str
    uri: str
    name: str
    type: str
    enabled: bool | str | None = json_field(omit_none=True, default=None)
    description: str = ""
    start_date: str = ""
    connection: str = ""
    tags: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    meta: dict[str, JSONValue] = field(default_factory=dict)
    materialization: Materialization | None = None
    upstreams: list[Upstream] = field(default_factory=list)
    image: str = ""
    instance: str = ""
    owner: str = ""
    tier: int = json_field(omit_empty=True, default=0)
    executable_file: ExecutableFile = field(default_factory=lambda: ExecutableFile("", "", ""))
    definition_file: DefinitionFile = field(default_factory=lambda: DefinitionFile("", "", ""))
    parameters: dict[str, JSONValue] = field(default_factory=dict)
    secrets: list[SecretMapping] = field(default_factory=list)
    extends: list[str] | None = None
    columns: list[Column] = field(default_factory=list)
    custom_checks: list[CustomCheck] = field(default_factory=list)
    unit_tests: list[JSONValue] = json_field(omit_empty=True, default_factory=list)
    hooks: Hooks = field(default_factory=Hooks)
    metadata: dict[str, JSONValue] = field(default_factory=dict)
    snowflake: dict[str, str] | None = None
    athena: dict[str, str] | None = None
    bigquery: dict[str, JSONValue] | None = None
    doris: dict[str, JSONValue] = json_field(omit_empty=True, default_factory=dict)
    starrocks: dict[str, JSONValue] = json_field(omit_empty=True, default_factory=dict)
    routing: dict[str, str] = json_field(omit_empty=True, default_factory=dict)
    interval_modifiers: IntervalModifiers | None = None
    rerun_cooldown: int | None = json_field(omit_none=True, default=None)
    retries: int | None = None
    timeout: int = json_field(omit_empty=True, default=0)
    retries_delay: int | None = json_field(omit_none=True, default=None)
    refresh_restricted: bool | None = json_field(omit_none=True, default=None)
    notifications: JSONValue = json_field(omit_empty=True, default=None)


@document
class SlimAsset:
    """An asset in `parse-pipeline --exp-slim-response`."""

    id: str
    name: str
    type: str
    executable_file: ExecutableFile
    definition_file: DefinitionFile
    upstreams: list[Upstream]


@document
class Notifications:
    slack: list[JSONValue] = field(default_factory=list)
    ms_teams: list[JSONValue] = field(default_factory=list)
    discord: list[JSONValue] = field(default_factory=list)
    webhook: list[JSONValue] = field(default_factory=list)
    email: list[JSONValue] = field(default_factory=list)


@document
class MetadataPush:
    bigquery: bool = False


@document
class PipelineDocument:
    """The whole pipeline as upstream's `Pipeline` struct serialises it (asset contents left out)."""

    legacy_id: str
    name: str
    tags: list[str]
    domains: list[str]
    meta: dict[str, JSONValue]
    owner: str
    schedule: str
    start_date: str
    definition_file: PipelineFile
    default_connections: dict[str, str]
    assets: list[AssetDocument]
    notifications: Notifications
    catchup: str
    metadata_push: MetadataPush
    retries: int | None
    retries_delay: int | None = json_field(omit_none=True, default=None)
    concurrency: int = 1
    max_active_steps: int | None = None
    #: The pipeline's `default:` block, in upstream's DefaultValues shape (see `default_values`).
    default: dict[str, JSONValue] | None = json_field(omit_none=True, default=None)
    commit: str = ""
    snapshot: str = ""
    agent: bool = False
    variables: dict[str, JSONValue] | None = None
    variants: dict[str, JSONValue] = json_field(omit_empty=True, default_factory=dict)
    selected_variant: str = ""
    macros: list[str] = field(default_factory=list)
    fixtures: list[JSONValue] = json_field(omit_empty=True, default_factory=list)


@document
class SlimPipelineDocument:
    """`parse-pipeline --exp-slim-response`: the pipeline's keys, then `assets` (slim) last, as upstream."""

    legacy_id: str
    name: str
    tags: list[str]
    domains: list[str]
    meta: dict[str, JSONValue]
    owner: str
    schedule: str
    start_date: str
    definition_file: PipelineFile
    default_connections: dict[str, str]
    notifications: Notifications
    catchup: str
    metadata_push: MetadataPush
    retries: int | None
    retries_delay: int | None = json_field(omit_none=True, default=None)
    concurrency: int = 1
    max_active_steps: int | None = None
    default: dict[str, JSONValue] | None = json_field(omit_none=True, default=None)
    commit: str = ""
    snapshot: str = ""
    agent: bool = False
    variables: dict[str, JSONValue] | None = None
    variants: dict[str, JSONValue] = json_field(omit_empty=True, default_factory=dict)
    selected_variant: str = ""
    macros: list[str] = field(default_factory=list)
    fixtures: list[JSONValue] = json_field(omit_empty=True, default_factory=list)
    assets: list[SlimAsset] = field(default_factory=list)


@document
class PipelineSummary:
    name: str
    schedule: str
    start_date: str


@document
class Repository:
    path: str


@document
class LineageIssue:
    name: str
    error: str


@document
class AssetEnvelope:
    """`parse-asset`: `asset` is null when the file is not an asset (the extension relies on it)."""

    asset: AssetDocument | None
    pipeline: PipelineSummary
    repo: Repository
    lineage_issues: list[LineageIssue] = json_field(omit_empty=True, default_factory=list)
