"""The run state file upstream writes after every run, and what `bruin run --continue` reads back.

`logs/runs/<pipeline>/<run id>.json` (`pybruin.documents.run_state`) records each asset's outcome and the
run's parameters. `--continue` takes the newest file of the pipeline's folder, refuses it when the
pipeline's shape changed since (the compatibility hash), and runs again what failed or did not run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pybruin.errors import BruinError
from pybruin.pipeline.depends import asset_dependencies
from pybruin.pipeline.model import Pipeline
from pybruin.run.files import write_atomically

RUNS_FOLDER = Path("logs") / "runs"
_FAILED = frozenset({"failed", "upstream_failed"})


def compatibility_hash(pipeline: Pipeline) -> str:
    """Upstream's hash of a pipeline's shape: its name, and each asset's name, enabled flag and upstreams."""
    import hashlib

    text = pipeline.name
    for asset in pipeline.assets:
        text += ":" + asset.name + "{"
        if not asset.enabled:
            text += ":enabled:false"
        for upstream in asset_dependencies(asset, pipeline):
            text += ":" + upstream.value + ":" + upstream.type + ":"
        text += "}"
    return hashlib.sha256((text + ":").encode()).hexdigest()


def asset_status(task_statuses: Sequence[str]) -> str:
    """One asset's status from its tasks' (upstream's rule: a failure anywhere is `failed`)."""
    if any(status in _FAILED for status in task_statuses):
        return "failed"
    if task_statuses and all(status == "skipped" for status in task_statuses):
        return "skipped"
    if any(status == "succeeded" for status in task_statuses):
        return "succeeded"
    return "pending"


def state_folder(project_root: Path, pipeline: str) -> Path:
    return project_root / RUNS_FOLDER / pipeline


def write_state(path: Path, text: str) -> None:
    """Owner-only and complete or absent, like the manifest: the file names assets and parameters, never a
    value, and `--continue` never reads half of one."""
    write_atomically(path, text.encode())


def latest_state(folder: Path, pipeline: Pipeline) -> dict[str, Any]:
    """The newest state file of `folder`, checked against the pipeline as it is now."""
    try:
        # a dot file is one being written (`run/files.py`): not a run state yet
        files = [entry for entry in folder.iterdir() if entry.is_file() and not entry.name.startswith(".")]
    except OSError:
        files = []
    if not files:
        raise BruinError(f"Failed to restore state: no run state found in '{folder}'")
    newest = max(files, key=lambda path: path.stat().st_mtime_ns)
    try:
        document = json.loads(newest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise BruinError(f"Failed to restore state: '{newest}' is not a run state file") from None
    if not isinstance(document, dict) or not isinstance(document.get("state"), list):
        raise BruinError(f"Failed to restore state: '{newest}' is not a run state file")
    if document.get("compatibility_hash") != compatibility_hash(pipeline):
        raise BruinError(
            "Failed to restore state: the pipeline has changed since the last run; please rerun the pipeline"
        )
    return document


def saved_statuses(document: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(entry.get("name")): str(entry.get("status"))
        for entry in document["state"]
        if isinstance(entry, dict) and entry.get("name") is not None
    }


def operating_system() -> str:
    """Go's GOOS spelling of this platform."""
    return {"win32": "windows", "darwin": "darwin"}.get(
        sys.platform, "linux" if sys.platform.startswith("linux") else sys.platform
    )
