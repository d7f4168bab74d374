"""Per-run database users from the ``database`` secrets engine of Vault or OpenBao.

A connection stored in Vault's KV (see ``vault.py``) may leave its ``username`` and ``password``
to the database engine by naming one of its roles in its details::

    {"type": "postgres",
     "details": {"host": "db.internal", "port": 5432, "database": "analytics",
                 "dynamic": {"engine": "database", "role": "etl", "mount": "database"}}}

``engine`` is ``database`` (the default and the only engine), ``mount`` where the engine is mounted
(default ``database``), ``role`` the role whose ``creation_statements`` make the user. Reading
``<mount>/creds/<role>`` makes a new database user each time, so a run reads it once, when it
starts, and holds the lease it gets: renewed through ``sys/leases/renew``, revoked through
``sys/leases/revoke`` (Vault then runs the role's revocation statements, dropping the user).
Checking a connection reads ``<mount>/roles/<role>`` instead, which creates nothing.

The token needs ``read`` on ``<mount>/creds/<role>`` (and on ``<mount>/roles/<role>`` for
``bruin secrets check``) and ``update`` on ``sys/leases/renew`` and ``sys/leases/revoke``.

Messages (never a value, never Vault's own text, which may echo the request):

* ``connection '<name>' has an invalid 'dynamic' field: <reason>`` (malformed secret)
* ``failed to issue credentials for connection '<name>' from Vault role '<mount>/creds/<role>': <why>``
* ``Vault role '<mount>/roles/<role>' of connection '<name>' not found`` (``secrets check``)
* ``failed to renew the lease of connection '<name>': <why>``
* ``failed to revoke the lease of connection '<name>': <why>``

``<why>`` is ``Vault returned HTTP status 403 (Forbidden)``, ``could not connect to Vault: ...`` or
``no answer within 30s (BRUIN_VAULT_TIMEOUT)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pybruin.records import Record
from pybruin.secrets.base import BackendError
from pybruin.secrets.leases import Lease, Leased

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

#: Sends one request to Vault: method, path, what failed (for the error), JSON body. Returns the answer's
#: JSON body, ``None`` for a 404; raises :class:`BackendError` for any other failure.
Call = Callable[..., "dict[str, Any] | None"]

ENGINES = ("database",)
DEFAULT_MOUNT = "database"
_SPEC_KEYS = frozenset({"engine", "role", "mount"})


class DatabaseRole(Record):
    """Where a connection's per-run users come from: a role of a database engine mount."""

    mount: str
    role: str

    @property
    def creds_path(self) -> str:
        return f"{self.mount}/creds/{self.role}"

    @property
    def role_path(self) -> str:
        return f"{self.mount}/roles/{self.role}"

    def url(self, kind: str) -> str:
        return f"v1/{quote(self.mount, safe='')}/{kind}/{quote(self.role, safe='')}"


def database_role(name: str, details: Mapping[str, object]) -> DatabaseRole | None:
    """The role the ``dynamic`` field of a connection's details names; ``None`` without one."""
    if "dynamic" not in details:
        return None
    spec = details["dynamic"]
    problem = _problem(spec)
    if problem:
        raise BackendError(f"connection '{name}' has an invalid 'dynamic' field: {problem}", kind="malformed")
    assert isinstance(spec, Mapping)
    mount = str(spec.get("mount") or DEFAULT_MOUNT).strip("/")
    return DatabaseRole(mount=mount, role=str(spec["role"]))


def _problem(spec: object) -> str | None:
    if not isinstance(spec, Mapping):
        return "expected an object with 'role' (and optionally 'engine' and 'mount')"
    unknown = sorted(str(key) for key in spec if key not in _SPEC_KEYS)
    if unknown:
        return f"unknown keys {', '.join(unknown)} (known: engine, mount, role)"
    engine = spec.get("engine", ENGINES[0])
    if engine not in ENGINES:
        return f"unsupported engine (supported: {', '.join(ENGINES)})"
    role = spec.get("role")
    if not isinstance(role, str) or not role.strip() or "/" in role:
        return "'role' must be a role name"
    mount = spec.get("mount", DEFAULT_MOUNT)
    if not isinstance(mount, str) or not mount.strip("/ "):
        return "'mount' must be the path the database engine is mounted at"
    return None


def check_user_fields(name: str, connection: Connection) -> None:
    """Check that ``connection`` has a ``username`` and a ``password`` a per-run user can fill."""
    try:
        connection.replaced(username="", password="")
    except ValueError:
        raise BackendError(
            f"connection '{name}' has an invalid 'dynamic' field: a {connection.type_key} connection "
            "has no username and password for per-run credentials",
            kind="malformed",
        ) from None


def issue(call: Call, name: str, role: DatabaseRole, template: Connection) -> Leased:
    """Create this run's database user for connection ``name``: the connection with it, and its lease."""
    failure = f"failed to issue credentials for connection '{name}' from Vault role '{role.creds_path}'"
    body = call("GET", role.url("creds"), failure)
    if body is None:
        raise BackendError(f"{failure}: Vault returned HTTP status 404 (Not Found)", kind="malformed")
    data = body.get("data")
    username = data.get("username") if isinstance(data, dict) else None
    password = data.get("password") if isinstance(data, dict) else None
    lease_id = body.get("lease_id")
    ttl = body.get("lease_duration")
    if not (isinstance(username, str) and isinstance(password, str) and username and password):
        raise BackendError(f"{failure}: Vault returned no username and password", kind="malformed")
    if not isinstance(lease_id, str) or not lease_id or not isinstance(ttl, int | float):
        raise BackendError(f"{failure}: Vault returned no lease", kind="malformed")
    lease = VaultLease(call, name, lease_id, float(ttl), renewable=body.get("renewable") is True)
    return Leased(template.replaced(username=username, password=password), lease)


def check_role(call: Call, name: str, role: DatabaseRole) -> str:
    """Read the role's definition (which creates nothing); returns the path its credentials come from."""
    failure = f"failed to read Vault role '{role.role_path}' of connection '{name}'"
    if call("GET", role.url("roles"), failure) is None:
        raise BackendError(f"Vault role '{role.role_path}' of connection '{name}' not found", kind="malformed")
    return role.creds_path


class VaultLease(Lease):
    """A database engine lease, renewed and revoked through ``sys/leases``."""

    def __init__(self, call: Call, name: str, lease_id: str, ttl: float, *, renewable: bool) -> None:
        self._call = call
        self._name = name
        self.lease_id = lease_id
        self.ttl = ttl
        self.renewable = renewable

    def renew(self, increment: float) -> float:
        failure = f"failed to renew the lease of connection '{self._name}'"
        body = self._call(
            "PUT", "v1/sys/leases/renew", failure, json={"lease_id": self.lease_id, "increment": round(increment)}
        )
        granted = (body or {}).get("lease_duration")
        if not isinstance(granted, int | float):
            raise BackendError(f"{failure}: Vault returned no lease duration", kind="malformed")
        return float(granted)

    def revoke(self) -> None:
        failure = f"failed to revoke the lease of connection '{self._name}'"
        if self._call("PUT", "v1/sys/leases/revoke", failure, json={"lease_id": self.lease_id}) is None:
            raise BackendError(f"{failure}: Vault returned HTTP status 404 (Not Found)")
