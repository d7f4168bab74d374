"""What one Airflow task tells the worker to run: a small JSON document, rendered by Airflow per run.

The DAG file writes a template of it for every task (`spec_template`); Airflow fills in the run's values
(`run_id`, the data interval, the DAG params) when the task starts, and the rendered text is the argument
of `bruin airflow-task` in the worker (a local subprocess or a pod). It holds names, paths, dates and
pipeline variables only, so what Airflow stores of it (rendered templates, the pod spec) is never a secret:
the worker resolves its asset's secrets itself, from the store its own environment configures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pybruin.errors import BruinError
from pybruin.records import Record, as_dict, field, field_names

#: Where Jinja would start a tag: no fixed value of a template may contain one.
_JINJA_MARKERS = ("{{", "{%", "{#")

#: The values Airflow renders per run, as Jinja expressions producing JSON.
_RUN_VALUES = {
    "run_id": "{{ run_id | tojson }}",
    "start": "{{ (data_interval_start.isoformat() if data_interval_start else none) | tojson }}",
    "end": "{{ (data_interval_end.isoformat() if data_interval_end else none) | tojson }}",
    "full_refresh": "{{ params.full_refresh | tojson }}",
}


class TaskSpec(Record):
    """One task of one run: which plan task of which asset (its main task, or one of its checks), in which
    project, with which run values."""

    #: The project root in the worker (absolute).
    project: str
    #: The asset's definition file, relative to `project`.
    asset: str
    #: The plan task's id (upstream's name for it: the asset name for its main task).
    task: str
    #: A check task's check id (what `--single-check` takes); None for the asset's main task.
    check: str | None = None
    environment: str | None = None
    #: `.bruin.yml` to use instead of the project's, relative to `project` unless absolute.
    config_file: str | None = None
    #: The store to read secrets from; None leaves it to the worker's `BRUIN_SECRETS_BACKEND`.
    secrets_backend: str | None = None
    run_id: str = ""
    start: str | None = None
    end: str | None = None
    full_refresh: bool = False
    variables: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> TaskSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BruinError(f"invalid task spec: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise BruinError("invalid task spec: expected a JSON object")
        unknown = sorted(set(data) - set(field_names(cls)))
        if unknown:
            raise BruinError(f"invalid task spec: unknown keys {', '.join(unknown)}")
        for key in ("project", "asset", "task"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise BruinError(f"invalid task spec: '{key}' must be a non-empty string")
        for key in ("check", "environment", "config_file", "secrets_backend", "start", "end", "run_id"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise BruinError(f"invalid task spec: '{key}' must be a string")
        if not isinstance(data.get("full_refresh", False), bool):
            raise BruinError("invalid task spec: 'full_refresh' must be true or false")
        if not isinstance(data.get("variables", {}), dict):
            raise BruinError("invalid task spec: 'variables' must be an object")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(as_dict(self), sort_keys=True)


#: The spec's keys the DAG file fixes (the others are the run's).
_FIXED_KEYS = tuple(key for key in field_names(TaskSpec) if key not in _RUN_VALUES and key != "variables")


def spec_template(fixed: TaskSpec, variables: tuple[str, ...]) -> str:
    """The Jinja template of `fixed`'s spec: its fixed values as JSON, the run's values as expressions.

    `variables` are the pipeline's variable names, each a DAG param of the same name. A fixed value holding
    a Jinja marker is refused rather than escaped: no asset path or name needs one.
    """
    values: dict[str, str] = {}
    for key in _FIXED_KEYS:
        value = getattr(fixed, key)
        encoded = json.dumps(value)
        if any(marker in encoded for marker in _JINJA_MARKERS):
            raise BruinError(f"'{value}' ({key}) cannot be part of an Airflow template: it contains a Jinja marker")
        values[key] = encoded
    values.update(_RUN_VALUES)
    chosen = ", ".join(f"{json.dumps(name)}: params[{json.dumps(name)}]" for name in variables)
    values["variables"] = "{{ {" + chosen + "} | tojson }}"
    return "{" + ", ".join(f"{json.dumps(key)}: {expression}" for key, expression in sorted(values.items())) + "}"
