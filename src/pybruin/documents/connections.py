"""`bruin connections list -o json`: upstream's layout, with every sensitive literal shown as `****`."""

from __future__ import annotations

from typing import Any

from pybruin.documents.encoding import document, json_field


@document
class EnvironmentConnections:
    """One environment: its connections by type key (upstream's type order), each list in file order.

    With a secrets backend, `secrets_backend` names it, each connection found there carries `source`, and
    the names no store has are listed in `not_found` (pybruin's additions).
    """

    connections: dict[str, list[dict[str, Any]]]
    schema_prefix: str = ""
    config: dict[str, Any] = json_field(omit_empty=True, default_factory=dict)
    secrets_backend: str = json_field(omit_empty=True, default="")
    not_found: list[str] = json_field(omit_empty=True, default_factory=list)


@document
class ConnectionsDocument:
    default_environment_name: str
    selected_environment_name: str
    selected_environment: EnvironmentConnections
    environments: dict[str, EnvironmentConnections]
