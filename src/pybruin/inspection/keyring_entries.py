"""`bruin secrets set` and `bruin secrets delete` without click: writing the project's entries in the OS keyring.

The value arrives from the caller (a prompt or stdin, never the command line) and is checked as the
connection it will become before it is stored, so a bad field is reported now, by name, not at the next run.
"""

from __future__ import annotations

import json

from pybruin.config.connections import build_connection
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.secrets.os_keyring import KeyringBackend
from pybruin.secrets.registry import open_backend
from pybruin.workspace import ProjectSettings, open_project

STORE_NAME = KeyringBackend.name


def set_entry(settings: ProjectSettings, masker: Masker, name: str, type_key: str, value: str) -> str:
    """Store connection ``name`` of ``type_key`` in the keyring; returns the service it went to.

    For ``generic`` the value is the secret itself; for every other type, the connection's fields as a
    JSON object.
    """
    masker.protect(value)
    if not name.strip():
        raise BruinError("the secret needs a name")
    if not value:
        raise BruinError(f"no value given for '{name}': type it at the prompt or pipe it on stdin")
    details = {"value": value} if type_key == "generic" else _details(type_key, value)
    if "name" in details:
        raise BruinError("the details must not contain 'name': the secret's name is given on its own")
    build_connection(type_key, {**details, "name": name}, base_dir=None, environ={})
    store = _keyring(settings)
    try:
        store.store(name, json.dumps({"type": type_key, "details": details}))
    finally:
        store.close()
    return store.service


def delete_entry(settings: ProjectSettings, name: str) -> str:
    """Remove connection ``name`` from the keyring; returns the service. Raises BruinError when it is not there."""
    store = _keyring(settings)
    try:
        if not store.delete(name):
            raise BruinError(f"secret '{name}' not found in the OS keyring under service '{store.service}'")
    finally:
        store.close()
    return store.service


def _details(type_key: str, value: str) -> dict[str, object]:
    try:
        details = json.loads(value)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON at line {exc.lineno}, column {exc.colno}"
    else:
        if isinstance(details, dict):
            return details
        reason = "not a JSON object"
    raise BruinError(f"the value of a {type_key} secret is its fields as a JSON object ({reason})")


def _keyring(settings: ProjectSettings) -> KeyringBackend:
    """The keyring store of the project; refused when ``--secrets-backend`` names other stores only."""
    chosen = [name.strip() for name in (settings.secrets_backend or "").split(",") if name.strip()]
    if chosen and STORE_NAME not in chosen:
        raise BruinError(
            f"bruin secrets set and delete write to the '{STORE_NAME}' secrets backend only; "
            f"--secrets-backend is '{settings.secrets_backend}'"
        )
    project = open_project(settings)
    store = open_backend(STORE_NAME, project.environment, project.config.path, project.environ)
    assert isinstance(store, KeyringBackend)
    return store
