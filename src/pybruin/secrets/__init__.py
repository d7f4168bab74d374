"""Where connections come from: ``.bruin.yml``, one remote secrets backend, or a chain of them.

Backend modules import their SDKs lazily, so choosing a backend costs nothing until
a run actually selects it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from pybruin.secrets.base import (
    BACKEND_CREDENTIAL_VARIABLES,
    SECRET_VALUED_VARIABLES,
    BackendError,
    SecretsBackend,
    is_backend_variable,
)
from pybruin.secrets.cache import ConnectionCache
from pybruin.secrets.chain import FALLBACK_KINDS, ChainBackend, MemberError, UnavailableBackend
from pybruin.secrets.local import LocalBackend

if TYPE_CHECKING:
    from pathlib import Path

    from pybruin.config.bruin_yml import Environment

__all__ = [
    "BACKEND_CREDENTIAL_VARIABLES",
    "SECRET_VALUED_VARIABLES",
    "BackendError",
    "ChainBackend",
    "ConnectionCache",
    "LocalBackend",
    "MemberError",
    "SecretsBackend",
    "describe_missing",
    "is_backend_variable",
    "open_backend",
]


def _vault(environ: Mapping[str, str]) -> SecretsBackend:
    from pybruin.secrets.vault import VaultBackend

    return VaultBackend.from_env(environ)


def _doppler(environ: Mapping[str, str]) -> SecretsBackend:
    from pybruin.secrets.doppler import DopplerBackend

    return DopplerBackend.from_env(environ)


def _aws(environ: Mapping[str, str]) -> SecretsBackend:
    from pybruin.secrets.aws import AwsSecretsManagerBackend

    return AwsSecretsManagerBackend.from_env(environ)


def _azure(environ: Mapping[str, str]) -> SecretsBackend:
    from pybruin.secrets.azure import AzureKeyVaultBackend

    return AzureKeyVaultBackend.from_env(environ)


# backend name → (constructor, what its failures are called)
_BACKENDS: dict[str, tuple[Callable[[Mapping[str, str]], SecretsBackend], str]] = {
    "vault": (_vault, "vault client"),
    "doppler": (_doppler, "doppler client"),
    "aws": (_aws, "AWS Secrets Manager client"),
    "azure": (_azure, "Azure Key Vault client"),
}


def open_backend(
    spec: str | None,
    environment: Environment,
    config_path: Path,
    environ: Mapping[str, str],
    *,
    fallback_on_error: bool = False,
) -> SecretsBackend:
    """Open the backend named by ``--secrets-backend`` (already trimmed or not).

    No name, or ``local``, means ``.bruin.yml``. Remote backends validate their settings
    and log in here, but read nothing until a connection is asked for. Names separated
    by commas open a :class:`ChainBackend` asking them in that order; with
    ``fallback_on_error`` a member that fails to open because it is unreachable or
    denies us is skipped like one that fails a read.
    """
    choice = (spec or "").strip()
    if "," not in choice:
        return _open_one(choice, environment, config_path, environ)
    names = [name.strip() for name in choice.split(",")]
    for name in names:
        if not name:
            raise BackendError(f'invalid secrets backend chain "{choice}": empty backend name')
        if name != LocalBackend.name and name not in _BACKENDS:
            raise BackendError(
                f'unsupported secrets backend "{name}" in chain "{choice}"; '
                "possible values: local, vault, doppler, aws, azure"
            )
        if names.count(name) > 1:
            raise BackendError(f'invalid secrets backend chain "{choice}": "{name}" appears more than once')
    members: list[SecretsBackend] = []
    try:
        for name in names:
            try:
                members.append(_open_one(name, environment, config_path, environ))
            except BackendError as err:
                if not (fallback_on_error and err.kind in FALLBACK_KINDS):
                    raise
                members.append(UnavailableBackend(name, err))
    except BaseException:
        for member in members:
            member.close()
        raise
    return ChainBackend(members, fallback_on_error=fallback_on_error)


def _open_one(
    choice: str, environment: Environment, config_path: Path, environ: Mapping[str, str]
) -> SecretsBackend:
    if choice in ("", LocalBackend.name):
        return LocalBackend(environment, config_path)
    if choice not in _BACKENDS:
        raise BackendError(f'unsupported secrets backend "{choice}"; possible values: vault, doppler, aws, azure')
    construct, label = _BACKENDS[choice]
    try:
        return construct(environ)
    except BackendError as err:
        raise BackendError(f"failed to initialize {label}: {err}", kind=err.kind) from None
    except ImportError as err:
        package = (err.name or "").partition(".")[0]
        raise BackendError(f"failed to initialize {label}: Python package '{package}' is not installed") from None


def describe_missing(name: str, backend_name: str | None, config_path: Path, environment_name: str) -> str:
    """Say where connection ``name`` was looked for, so users know which store to fix."""
    backend = (backend_name or "").strip()
    if backend and backend != LocalBackend.name:
        return f"connection '{name}' not found in secrets backend '{backend}'"
    return f"connection '{name}' not found in config file '{config_path}' under environment '{environment_name}'"
