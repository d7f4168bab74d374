"""Connections as tools are shown them (`bruin connections list -o json`): every field as written in
`.bruin.yml`, `${VAR}` placeholders unexpanded, and every sensitive literal replaced by `****`.

Upstream prints every value in clear; pybruin prints no credential even for tooling. The VS Code
extension edits a connection by deleting it and adding it back with the fields the listing showed, so a
`****` given back to `connections add` means "the value this connection had" (`restore_masked`), taken
from the copy `connections delete` keeps (`config.editing.kept_copy`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pybruin.config.connections import CONNECTION_TYPES, Connection, credential_fields
from pybruin.config.connections.fields import REQUIRED
from pybruin.config.yamlfiles import PlainScalar, resolve_plain

MASK = "****"
_HAND_BUILT = frozenset({"snowflake", "google_cloud_platform"})
_ONLY_PLACEHOLDERS = re.compile(r"(?:\$\{[^}]+\})+")
_BOOLEAN_TEXTS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def is_placeholder(value: object) -> bool:
    """A value that is nothing but `${VAR}` references: it names variables, it holds no secret."""
    return isinstance(value, str) and _ONLY_PLACEHOLDERS.fullmatch(value) is not None


def shown_fields(type_key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """One connection's fields for a listing: `name` first, then the model's field order (or the file's)."""
    sensitive = {path for path, _ in credential_fields(type_key, entry)}
    model = CONNECTION_TYPES.get(type_key)
    if model is None:
        keys = ["name", *(key for key in entry if key != "name")] if "name" in entry else list(entry)
        return {str(key): _shown(entry[key], str(key), sensitive, None) for key in keys if entry[key] is not None}
    # Upstream writes a field without `omitempty` even when it is empty: the fields of `json_always`.
    shown = {}
    for declared in model.declared_fields:
        value = entry.get(declared.key)
        if value is None and declared.name not in model.json_always:
            continue
        empty = declared.default if declared.default is not REQUIRED else ""
        shown[declared.key] = empty if value is None else _shown(value, declared.key, sensitive, declared.kind)
    if type_key in _HAND_BUILT:  # upstream builds these as maps: sorted keys, GCP's flag as text
        shown.pop("max_concurrent_assets", None)
        if isinstance(shown.get("use_application_default_credentials"), bool):
            shown["use_application_default_credentials"] = str(shown["use_application_default_credentials"]).lower()
        return dict(sorted(shown.items()))
    return shown


def _shown(value: Any, path: str, sensitive: set[str], annotation: Any) -> Any:
    if path in sensitive:
        return value if is_placeholder(value) else MASK
    if isinstance(value, Mapping):
        return {str(k): _shown(v, f"{path}.{k}", sensitive, None) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_shown(item, f"{path}[{index}]", sensitive, None) for index, item in enumerate(value)]
    if isinstance(value, PlainScalar):
        return _typed(str(value), annotation)
    return value


def _typed(text: str, kind: Any) -> Any:
    """An unquoted scalar as the JSON value of the field it fills (`5432` for a port, text otherwise)."""
    if kind is int and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind is float:
        try:
            return float(text)
        except ValueError:
            return text
    if kind is bool and text in _BOOLEAN_TEXTS:
        return _BOOLEAN_TEXTS[text]
    if kind is None:
        return resolve_plain(text)
    return text


def written_fields(connection: Connection) -> dict[str, Any]:
    """A built connection's fields (a store's answer) as `.bruin.yml` would hold them: those that differ
    from their defaults, nested models as mappings, and an untyped connection's own keys."""
    from pybruin.config.connections.base import payload

    return {**payload(connection, ()), **connection.__dict__.get("_extra", {})}


def restore_masked(credentials: Mapping[str, Any], kept: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """`credentials` with every `****` replaced by the value at the same place in `kept` (as written);
    and the fields whose mask had no value to restore."""
    missing: list[str] = []

    def restore(value: Any, earlier: Any, path: str) -> Any:
        if value == MASK:
            if earlier is None or earlier == MASK:
                missing.append(path)
                return value
            return str(earlier) if isinstance(earlier, PlainScalar) else earlier
        if isinstance(value, Mapping):
            before = earlier if isinstance(earlier, Mapping) else {}
            return {k: restore(v, before.get(k), f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            before = earlier if isinstance(earlier, list) else []
            return [
                restore(item, before[i] if i < len(before) else None, f"{path}[{i}]") for i, item in enumerate(value)
            ]
        return value

    return restore(dict(credentials), kept or {}, ""), missing
