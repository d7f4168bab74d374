"""`bruin environments … -o json`."""

from __future__ import annotations

from pybruin.documents.encoding import document, json_field


@document
class EnvironmentName:
    name: str


@document
class EnvironmentsDocument:
    """`environments list`: the default environment and every environment, in file order."""

    selected_environment: str
    environments: list[EnvironmentName]


@document
class EnvironmentUpdated:
    message: str
    new_name: str
    old_name: str
    schema_prefix: str = json_field(omit_empty=True, default="")


@document
class EnvironmentDeleted:
    """`environments delete` (also when the deletion was cancelled at the prompt)."""

    message: str
    name: str


@document
class EnvironmentCloned:
    message: str
    schema_prefix: str = json_field(omit_empty=True, default="")
    source_name: str = ""
    target_name: str = ""


@document
class ConnectionDeleted:
    """`connections delete -o json` (upstream's keys are sorted: message, then status)."""

    message: str
    status: str = "success"
