"""Turn a backend's ``{"type": ..., "details": {...}}`` secret into a :class:`Connection`.

Every remote backend stores a connection the same way; only how strictly the two
fields are checked differs per backend, which ``rule`` selects:

* ``"trimmed"`` (Vault): ``type`` must be a string that is not blank; it is trimmed.
* ``"non_empty"`` (AWS, Azure): ``type`` must be a non-empty string, used as is.
* ``"lenient"`` (Doppler): only a secret with neither field is rejected outright;
  ``details`` must still be an object, and a missing ``type`` counts as unknown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

from pybruin.config.connections import KNOWN_TYPE_KEYS, Connection, build_connection
from pybruin.errors import BruinError
from pybruin.secrets.base import BackendError

PayloadRule = Literal["trimmed", "non_empty", "lenient"]

# Upstream decodes the type as a JSON object key, which Go matches case-insensitively.
_TYPE_KEYS_BY_FOLDED = {key.casefold(): key for key in KNOWN_TYPE_KEYS}


def parse_secret_object(text: str) -> dict[str, object]:
    """Parse a secret's string value, which must be a JSON object.

    The reason given names a position, never the text: a decoder message quoting the
    offending input would put part of the secret into the error.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        where = "" if err.msg.endswith(" at") else " at"  # "Unterminated string starting at" names a place
        raise BackendError(
            f"failed to parse secret as JSON: {err.msg}{where} line {err.lineno} column {err.colno}",
            kind="malformed",
        ) from None
    if not isinstance(value, dict):
        raise BackendError(
            f"failed to parse secret as JSON: expected an object, got {_json_kind(value)}",
            kind="malformed",
        )
    return value


def connection_from_payload(
    name: str,
    payload: object,
    *,
    environ: Mapping[str, str],
    rule: PayloadRule = "non_empty",
) -> Connection:
    """Build connection ``name`` from a decoded secret.

    ``details["name"]`` is always the connection name, whatever the secret says, and the
    usual stage-2 ``${VAR}`` expansion applies. Paths stay as stored: a secret has no
    directory to be relative to.
    """
    type_key, details = _validated_fields(name, payload, rule)
    known = _TYPE_KEYS_BY_FOLDED.get(type_key.casefold())
    if known is None:
        raise BackendError(f"secret '{name}' has unknown connection type '{type_key}'", kind="wrong_type")
    try:
        return build_connection(known, {**details, "name": name}, base_dir=None, environ=environ)
    except BruinError as err:
        raise BackendError(f"failed to configure connection '{name}': {err}", kind="malformed") from None


def _validated_fields(name: str, payload: object, rule: PayloadRule) -> tuple[str, Mapping[str, object]]:
    fields = payload if isinstance(payload, Mapping) else {}
    type_value = fields.get("type")
    details = fields.get("details")
    if rule == "lenient":
        if details is None and not isinstance(type_value, str):
            raise BackendError(f"secret '{name}' is missing required 'details' or 'type' fields", kind="malformed")
        if not isinstance(details, Mapping):
            raise BackendError(f"secret '{name}' has invalid 'details' field: expected a map", kind="malformed")
        return (type_value if isinstance(type_value, str) else ""), details
    if rule == "trimmed" and isinstance(type_value, str):
        type_value = type_value.strip()
    if not isinstance(type_value, str) or not type_value or not isinstance(details, Mapping):
        raise BackendError(
            f"secret '{name}' must contain both 'type' (non-empty string) and 'details' (object)",
            kind="malformed",
        )
    return type_value, details


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
