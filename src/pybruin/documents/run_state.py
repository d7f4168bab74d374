"""The run state file `logs/runs/<pipeline>/<run id>.json`, in upstream's format.

`bruin run --continue` reads the newest one back; the VS Code extension's run history lists them. The
secrets manifest (who received which secret) stays pybruin's own file, `logs/runs/<run id>.json`.
"""

from __future__ import annotations

from pybruin.documents.encoding import document, json_field

STATE_VERSION = "1.0.0"


@document
class RunParameters:
    """The run's flags as upstream records them; `--continue` runs again with these."""

    downstream: bool = False
    start_date: str = json_field("startDate", default="")
    end_date: str = json_field("endDate", default="")
    workers: int = 16
    environment: str = ""
    force: bool = False
    push_metadata: bool = json_field("pushMetadata", default=False)
    no_log_file: bool = json_field("noLogFile", default=False)
    full_refresh: bool = json_field("fullRefresh", default=False)
    selector: str = ""
    tag: str = ""
    exclude_tag: str = json_field("excludeTag", omit_empty=True, default="")
    exclude_tags: list[str] = json_field("excludeTags", omit_empty=True, default_factory=list)
    only: list[str] | None = None
    output: str = ""
    exp_use_winget_for_uv: bool = json_field("expUseWingetForUv", default=False)
    config_file_path: str = json_field("configFilePath", default="")
    sensor_mode: str = json_field("sensorMode", default="")
    apply_interval_modifiers: bool = json_field("applyIntervalModifiers", default=False)
    annotations: str = ""


@document
class RunMetadata:
    version: str
    os: str


@document
class AssetState:
    """One asset's outcome: `succeeded`, `failed`, `skipped` or `pending`."""

    name: str
    status: str


@document
class RunStateDocument:
    cmdline: list[str]
    parameters: RunParameters
    metadata: RunMetadata
    state: list[AssetState]
    version: str = STATE_VERSION
    timestamp: str = ""
    run_id: str = ""
    compatibility_hash: str = ""
    backfill_id: str = json_field(omit_empty=True, default="")
    backfill_total: int = json_field(omit_empty=True, default=0)
