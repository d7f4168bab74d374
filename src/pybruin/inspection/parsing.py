"""`bruin internal parse-pipeline` / `parse-asset` without click: a pipeline or one asset as upstream's
documents, built from what the loader read (defaults already merged) plus the header keys pybruin keeps
as written.

No `.bruin.yml` is read and no template is rendered: the VS Code extension calls these on every file open
and waits 300 ms for the pipeline, so they import nothing but the loader and YAML.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pybruin.documents import parse as doc
from pybruin.errors import BruinError
from pybruin.pipeline.checks import COLUMN_CHECKS, column_check_id, custom_check_id
from pybruin.pipeline.depends import WrittenDependency, asset_dependencies, written_dependencies
from pybruin.pipeline.depends import scalar_text as _text
from pybruin.pipeline.headers import YAML_ASSET_SUFFIXES, read_text
from pybruin.pipeline.loader import PIPELINE_FILE_NAMES, load_asset, load_pipeline
from pybruin.pipeline.model import Asset, Pipeline

#: Column checks upstream keeps; others are dropped when parsed (upstream's behaviour, reference §1.5).
KNOWN_COLUMN_CHECKS = frozenset(COLUMN_CHECKS)
_NOT_FOUND = "cannot find a pipeline the given task belongs to. Are you sure this task is in an actual pipeline?"
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pipeline_root(path: Path) -> Path:
    """The first folder holding a pipeline file, from `path` (absolutised, not resolved) upwards."""
    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in PIPELINE_FILE_NAMES):
            return folder
    raise BruinError(_NOT_FOUND)


def git_root(path: Path) -> Path:
    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    raise BruinError("no git repository found")


def parse_pipeline(
    path: Path, *, slim: bool = False, column_lineage: bool = False
) -> doc.PipelineDocument | doc.SlimPipelineDocument:
    """The pipeline `path` is in (its folder, `pipeline.yml`, an asset or a sub-folder), contents left out.

    `column_lineage` adds the columns each SQL query reads and writes; its issues are not reported, as
    upstream does not report them for a pipeline.
    """
    pipeline = load_pipeline(pipeline_root(path))
    fields = _pipeline_fields(pipeline)
    if slim:
        assets = [_slim(asset, pipeline) for asset in pipeline.assets]
        return doc.SlimPipelineDocument(**fields, assets=assets)
    documents = [asset_document(a, pipeline, content=False) for a in pipeline.assets]
    if column_lineage:
        from pybruin.inspection.lineage import add_column_lineage

        add_column_lineage(documents, {asset.name: asset for asset in pipeline.assets})
    return doc.PipelineDocument(**fields, assets=documents)


def parse_asset(path: Path, *, column_lineage: bool = False) -> doc.AssetEnvelope:
    """The asset file `path` with its pipeline's defaults; `asset` None when the file is not an asset.

    `column_lineage` reads the whole pipeline to follow the asset's upstreams, and reports what it could
    not read as `lineage_issues`.
    """
    root = pipeline_root(path)
    repo = git_root(path)
    file = Path(os.path.abspath(path))
    pipeline = load_pipeline(root, with_assets=column_lineage)
    if column_lineage:
        asset = next((a for a in pipeline.assets if a.definition_file == file), None)
    else:
        asset = load_asset(file, pipeline)
    document = asset_document(asset, pipeline, content=True) if asset is not None else None
    issues: list[doc.LineageIssue] = []
    if column_lineage and document is not None and asset is not None:
        from pybruin.inspection.lineage import add_column_lineage

        others = [asset_document(a, pipeline, content=False) for a in pipeline.assets if a.name != asset.name]
        issues = add_column_lineage([document, *others], {a.name: a for a in pipeline.assets}, only=asset.name)
    definition = pipeline.definition
    return doc.AssetEnvelope(
        asset=document,
        pipeline=doc.PipelineSummary(
            pipeline.name, _text(definition.get("schedule")), _text(definition.get("start_date"))
        ),
        repo=doc.Repository(str(repo)),
        lineage_issues=issues,
    )


# -- the pipeline -------------------------------------------------------------------------------


def _pipeline_fields(pipeline: Pipeline) -> dict[str, Any]:
    spec = pipeline.definition
    defaults = _mapping(spec.get("default"))
    cooldown = defaults.get("rerun_cooldown")
    return {
        "legacy_id": _text(spec.get("id")),
        "name": pipeline.name,
        "tags": _texts(spec.get("tags")),
        "domains": _texts(spec.get("domains")),
        "meta": _sorted(_mapping(spec.get("meta"))),
        "owner": _text(spec.get("owner")),
        "schedule": _text(spec.get("schedule")),
        "start_date": _text(spec.get("start_date")),
        "definition_file": doc.PipelineFile(pipeline.definition_file.name, str(pipeline.definition_file)),
        "default_connections": dict(sorted(pipeline.default_connections.items())),
        "notifications": _notifications(spec.get("notifications")),
        "catchup": _catchup(spec.get("catchup")),
        "metadata_push": doc.MetadataPush(bool(_mapping(spec.get("metadata_push")).get("bigquery"))),
        "retries": _integer(spec.get("retries")),
        "retries_delay": _retries_delay(cooldown),
        "concurrency": _integer(spec.get("concurrency")) or 1,
        "max_active_steps": _integer(spec.get("max_active_steps")),
        "default": _default_values(defaults) if "default" in spec else None,
        "commit": "",
        "snapshot": "",
        "agent": spec.get("agent") is True,
        "variables": _sorted(pipeline.variables) if pipeline.variables else None,
        "variants": _sorted(_mapping(spec.get("variants"))),
        "selected_variant": "",
        "macros": _macros(pipeline.directory / "macros"),
    }


def _notifications(value: object) -> doc.Notifications:
    spec = _mapping(value)
    return doc.Notifications(**{
        kind: [_notification(kind, item) for item in spec.get(kind) or [] if isinstance(item, dict) and item]
        for kind in ("slack", "ms_teams", "discord", "webhook", "email")
    })  # fmt: skip


def _notification(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    target = {"slack": "channel", "email": "recipients"}.get(kind, "connection")
    return {target: item.get(target, [] if kind == "email" else ""), "success": item.get("success", True) is not False,
            "failure": item.get("failure", True) is not False}  # fmt: skip


def _catchup(value: object) -> str:
    if value is True or value == "active":
        return "active"
    return "all" if value == "all" else ""


def _retries_delay(cooldown: object) -> int | None:
    """Upstream translates `rerun_cooldown` (seconds) into `retries_delay`; -1 means "no delay"."""
    if isinstance(cooldown, int) and not isinstance(cooldown, bool):
        if cooldown > 0:
            return cooldown
        if cooldown == -1:
            return 0
    return None


def _macros(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    files = sorted(str(path) for path in folder.rglob("*.sql") if path.is_file())
    return [read_text(Path(path)) for path in files]


def _default_values(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The `default:` block as upstream's DefaultValues struct: always-present keys in their place, the
    others only when set; default secrets keep upstream's Go field names (`SecretKey`, `InjectedKey`)."""
    block: dict[str, Any] = {"type": _text(defaults.get("type"))}
    for key in ("description", "start_date", "connection"):
        if defaults.get(key):
            block[key] = _text(defaults[key])
    for key in ("tags", "domains"):
        if defaults.get(key):
            block[key] = _texts(defaults[key])
    if defaults.get("meta"):
        block["meta"] = _sorted(_mapping(defaults["meta"]))
    block["materialization"] = _materialization(_mapping(defaults.get("materialization")))
    if defaults.get("depends"):
        block["upstreams"] = _upstreams(defaults["depends"])
    for key in ("image", "instance", "owner"):
        if defaults.get(key):
            block[key] = _text(defaults[key])
    if defaults.get("tier"):
        block["tier"] = defaults["tier"]
    block["parameters"] = _sorted(_mapping(defaults.get("parameters"))) or None
    secrets = [item for item in defaults.get("secrets") or [] if isinstance(item, dict)]
    block["secrets"] = [{"SecretKey": _text(s.get("key")), "InjectedKey": _text(s.get("inject_as"))}
                        for s in secrets] or None  # fmt: skip
    if defaults.get("extends"):
        block["extends"] = _texts(defaults["extends"])
    block["hooks"] = _hooks(defaults.get("hooks"))
    if defaults.get("metadata"):
        block["metadata"] = _sorted(_mapping(defaults["metadata"]))
    block["snowflake"] = _option(defaults.get("snowflake"), "warehouse")
    block["athena"] = _option(defaults.get("athena"), "query_results_path", "location")
    block["bigquery"] = _bigquery(defaults.get("bigquery"))
    block["interval_modifiers"] = _interval_modifiers(defaults.get("interval_modifiers"))
    for key in ("rerun_cooldown", "retries"):
        if defaults.get(key) is not None:
            block[key] = defaults[key]
    if defaults.get("timeout"):
        block["timeout"] = _seconds(defaults["timeout"])
    return block


# -- one asset ----------------------------------------------------------------------------------


def asset_document(asset: Asset, pipeline: Pipeline, *, content: bool) -> doc.AssetDocument:
    """`asset` as upstream's Asset object; `content` (parse-asset) keeps the executable file's text."""
    header = asset.header
    defaults = _mapping(pipeline.definition.get("default"))

    def own_or_default(key: str) -> Any:
        value = header.get(key)
        return value if value not in (None, "", [], {}) else defaults.get(key)

    cooldown = header.get("rerun_cooldown", defaults.get("rerun_cooldown"))
    enabled = header.get("enabled")
    hooks = header.get("hooks")
    if not hooks and _is_sql(asset):
        hooks = _default_hooks(defaults.get("hooks"), asset.type)
    return doc.AssetDocument(
        id=sha256_hex(asset.name),
        uri=_text(header.get("uri")),
        name=asset.name,
        type=asset.type,
        enabled=enabled if isinstance(enabled, bool | str) else None,
        description=asset.description or "",
        start_date=asset.start_date or "",
        connection=asset.connection or "",
        tags=list(asset.tags),
        domains=_merged_texts(header.get("domains"), defaults.get("domains")),
        meta=_sorted({**_mapping(defaults.get("meta")), **_mapping(header.get("meta"))}),
        materialization=_materialization(asset.materialization),
        upstreams=asset_upstreams(asset, pipeline),
        image=asset.image or "",
        instance=asset.instance or "",
        owner=asset.owner or "",
        tier=_integer(own_or_default("tier")) or 0,
        executable_file=_executable(asset, content),
        definition_file=doc.DefinitionFile(
            asset.definition_file.name,
            str(asset.definition_file),
            "yaml" if asset.definition_file.name.endswith(YAML_ASSET_SUFFIXES) else "comment",
        ),
        parameters=_sorted(asset.parameters),
        secrets=[doc.SecretMapping(s.key, s.inject_as) for s in asset.secrets],
        extends=_merged_texts(header.get("extends"), defaults.get("extends")) or None,
        columns=[_column(asset.name, c) for c in _items(header.get("columns"), defaults.get("columns"))],
        custom_checks=[
            _custom_check(asset.name, c) for c in _items(header.get("custom_checks"), defaults.get("custom_checks"))
        ],
        unit_tests=list(header.get("unit_tests") or []),
        hooks=_hooks(hooks),
        metadata=_sorted({**_mapping(defaults.get("metadata")), **_mapping(header.get("metadata"))}),
        snowflake=_option(own_or_default("snowflake"), "warehouse"),
        athena=_option(own_or_default("athena"), "query_results_path", "location"),
        bigquery=_bigquery(own_or_default("bigquery")),
        routing=_routing(own_or_default("routing")),
        interval_modifiers=_interval_modifiers(own_or_default("interval_modifiers")),
        rerun_cooldown=cooldown if isinstance(cooldown, int) and not isinstance(cooldown, bool) else None,
        retries=_integer(own_or_default("retries")),
        timeout=_seconds(own_or_default("timeout")),
        retries_delay=_retries_delay(cooldown),
        refresh_restricted=header.get("refresh_restricted")
        if isinstance(header.get("refresh_restricted"), bool)
        else None,
        notifications=header.get("notifications") or None,
    )


def _slim(asset: Asset, pipeline: Pipeline) -> doc.SlimAsset:
    full = asset_document(asset, pipeline, content=False)
    return doc.SlimAsset(full.id, full.name, full.type, full.executable_file, full.definition_file, full.upstreams)


def _is_sql(asset: Asset) -> bool:
    return asset.type.endswith(".sql")


def _default_hooks(value: object, asset_type: str) -> object:
    applicable = _texts(_mapping(value).get("applicable_type"))
    return value if not applicable or asset_type in applicable else None


def _executable(asset: Asset, content: bool) -> doc.ExecutableFile:
    path = asset.executable_file
    text = ""
    if content:
        # YAML assets show their file as written; header assets the body after the header, trimmed.
        raw = asset.definition_file.name.endswith(YAML_ASSET_SUFFIXES)
        text = read_text(path) if raw else asset.content
    return doc.ExecutableFile(path.name, str(path), text)


def asset_upstreams(asset: Asset, pipeline: Pipeline) -> list[doc.Upstream]:
    """The asset's `depends` entries as written, then the pipeline default's it lacks."""
    return [_upstream(written) for written in asset_dependencies(asset, pipeline)]


def written_upstreams(asset: Asset) -> list[doc.Upstream]:
    """The asset's own `depends` entries as written (no pipeline defaults: `bruin lineage`)."""
    return _upstreams(asset.header.get("depends"))


def _upstreams(*sources: object) -> list[doc.Upstream]:
    return [_upstream(written) for written in written_dependencies(*sources)]


def _upstream(written: WrittenDependency) -> doc.Upstream:
    item = written.entry
    mode = str(item.get("mode") or "full").lower()
    columns = [doc.UpstreamColumn(_text(c.get("name")), _text(c.get("usage")))
               for c in item.get("columns") or [] if isinstance(c, dict)]  # fmt: skip
    return doc.Upstream(
        written.type,
        written.value,
        metadata=_sorted(_mapping(item.get("metadata"))),
        columns=columns,
        mode=mode if mode in ("full", "symbolic") else "full",
    )


def _materialization(spec: Mapping[str, Any]) -> doc.Materialization | None:
    if not any(value not in (None, "", []) for value in spec.values()):
        return None
    cluster_by = spec.get("cluster_by")
    return doc.Materialization(
        type=_text(spec.get("type")).lower(),
        strategy=_text(spec.get("strategy")).lower(),
        partition_by=_text(spec.get("partition_by")),
        cluster_by=_texts(cluster_by) if cluster_by else None,
        incremental_key=_text(spec.get("incremental_key")),
        incremental_predicate=_text(spec.get("incremental_predicate")),
        time_granularity=_text(spec.get("time_granularity")).lower(),
    )


def _column(asset_name: str, spec: Mapping[str, Any]) -> doc.Column:
    name = _text(spec.get("name"))
    checks: list[doc.ColumnCheck] = []
    for check in spec.get("checks") or []:
        if not isinstance(check, dict):
            continue
        check_name = _text(check.get("name"))
        if check_name not in KNOWN_COLUMN_CHECKS or any(c.name == check_name for c in checks):
            continue
        checks.append(doc.ColumnCheck(
            id=column_check_id(asset_name, name, check_name),
            name=check_name,
            value=check.get("value"),
            blocking=check.get("blocking") is not False,
            description=_text(check.get("description")),
            retries=_integer(check.get("retries")),
            notifications=check.get("notifications") or None,
        ))  # fmt: skip
    entity = spec.get("entity_attribute")
    foreign = spec.get("foreign_key")
    return doc.Column(
        entity_attribute=doc.EntityAttribute(_text(entity.get("entity")), _text(entity.get("attribute")))
        if isinstance(entity, dict)
        else None,
        name=name,
        source_column=_text(spec.get("source_column")),
        type=_text(spec.get("type")).strip(),
        mask=_text(spec.get("mask")),
        description=_text(spec.get("description")),
        tags=_texts(spec.get("tags")),
        primary_key=spec.get("primary_key") is True,
        update_on_merge=spec.get("update_on_merge") is True,
        merge_sql=_text(spec.get("merge_sql")),
        nullable=spec.get("nullable") is not False,
        default=spec.get("default", ""),
        precision=_integer(spec.get("precision")),
        scale=_integer(spec.get("scale")),
        length=_integer(spec.get("length")),
        collation=_text(spec.get("collation")),
        foreign_key=doc.ForeignKey(_text(foreign.get("table")), _text(foreign.get("column")))
        if isinstance(foreign, dict)
        else None,
        owner=_text(spec.get("owner")),
        domains=_texts(spec.get("domains")),
        meta=_sorted(_mapping(spec.get("meta"))),
        checks=checks,
        upstreams=[
            doc.ColumnUpstream(_text(u.get("column")), _text(u.get("table")))
            for u in spec.get("upstreams") or []
            if isinstance(u, dict)
        ],
    )


def _custom_check(asset_name: str, spec: Mapping[str, Any]) -> doc.CustomCheck:
    name = _text(spec.get("name"))
    count = spec.get("count")
    return doc.CustomCheck(
        id=custom_check_id(asset_name, name),
        name=name,
        description=_text(spec.get("description")),
        value=_integer(spec.get("value")) or 0,
        count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        blocking=spec.get("blocking") is not False,
        query=_text(spec.get("query")),
        retries=_integer(spec.get("retries")),
        notifications=spec.get("notifications") or None,
    )


def _hooks(value: object) -> doc.Hooks:
    spec = _mapping(value)

    def queries(kind: str) -> list[doc.Hook]:
        return [doc.Hook(_text(item.get("query"))) for item in spec.get(kind) or [] if isinstance(item, dict)]

    return doc.Hooks(_texts(spec.get("applicable_type")), queries("pre"), queries("post"))


def _option(value: object, key: str, output: str | None = None) -> dict[str, str] | None:
    text = _text(_mapping(value).get(key))
    return {output or key: text} if text else None


def _bigquery(value: object) -> dict[str, Any] | None:
    spec = _mapping(value)
    keys = ("require_partition_filter", "partition_expiration_days", "partition_key_immutable")
    chosen = {key: spec[key] for key in keys if spec.get(key) is not None}
    return chosen or None


def _routing(value: object) -> dict[str, str]:
    gateway = _text(_mapping(value).get("egress_gateway"))
    return {"egress_gateway": gateway} if gateway else {}


def _interval_modifiers(value: object) -> doc.IntervalModifiers | None:
    spec = _mapping(value)
    start, end = _time_modifier(spec.get("start")), _time_modifier(spec.get("end"))
    if start is None and end is None:
        return None
    return doc.IntervalModifiers(start, end)


def _time_modifier(value: object) -> doc.TimeModifier | None:
    if value in (None, ""):
        return None
    text = str(value)
    if "{{" in text or "{%" in text:
        return doc.TimeModifier(template=text)
    for suffix, unit in (("ms", "milliseconds"), ("ns", "nanoseconds"), ("h", "hours"), ("m", "minutes"),
                         ("s", "seconds"), ("d", "days"), ("M", "months")):  # fmt: skip
        number = text[: -len(suffix)]
        if text.endswith(suffix) and re.fullmatch(r"[-+]?\d+", number):
            return doc.TimeModifier(**{unit: int(number)})
    return None  # `bruin validate` reports a malformed modifier; the document leaves it out


def _seconds(value: object) -> int:
    """A `timeout:` as whole seconds: a Go duration (`2s`, `1h30m`), a bare integer being nanoseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value // 1_000_000_000
    if not isinstance(value, str):
        return 0
    text = value.strip()
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text.lstrip("+"):
        return 0
    return int(sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts))


# -- small readers ------------------------------------------------------------------------------


def _texts(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [_text(item) for item in value]


def _merged_texts(own: object, defaults: object) -> list[str]:
    mine = _texts(own)
    return mine + [item for item in _texts(defaults) if item not in mine]


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sorted(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Go writes maps with sorted keys, nested ones too."""
    return {str(key): _sorted(value) if isinstance(value, dict) else value
            for key, value in sorted(mapping.items(), key=lambda item: str(item[0]))}  # fmt: skip


def _items(*sources: object) -> Iterable[dict[str, Any]]:
    """Named mappings of the asset's list, then the defaults' whose name it lacks."""
    seen: set[str] = set()
    for source in sources:
        for item in source if isinstance(source, list) else []:
            if isinstance(item, dict) and _text(item.get("name")) not in seen:
                seen.add(_text(item.get("name")))
                yield item
