"""`bruin environments … -o json`."""

from __future__ import annotations

from dataclasses import dataclass

from pybruin.documents.encoding import json_field


@dataclass(frozen=True)
class EnvironmentName:
    name: str


@dataclass(frozen=True)
class EnvironmentsDocument:
    """`environments list`: the default environment and every environment, in file order."""

    selected_environment: str
    environments: list[EnvironmentName]


@dataclass(frozen=True)
class EnvironmentUpdated:
    message: str
    new_name: str
    old_name: str
    schema_prefix: str = json_field(omit_empty=True, default="")


@dataclass(frozen=True)
class EnvironmentDeleted:
    """`environments delete` (also when the deletion was cancelled at the prompt)."""

    message: str
    name: str


@dataclass(frozen=True)
class EnvironmentCloned:
    message: str
    schema_prefix: str = json_field(omit_empty=True, default="")
    source_name: str = ""
    target_name: str = ""


@dataclass(frozen=True)
class ConnectionDeleted:
    """`connections delete -o json` (upstream's keys are sorted: message, then status)."""

    message: str
    status: str = "success"
