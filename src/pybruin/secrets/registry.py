"""Every secret store pybruin has, and what follows from their declarations.

This is the one list of stores. Each store module declares itself (``STORE``, a
:class:`~pybruin.secrets.base.StoreDeclaration`) and imports its SDK only when the store
is opened. From the declarations come: opening one store or a chain (``--secrets-backend
vault,aws,local``), the error for a name no store has, the rule that withholds pybruin's own
configuration from every asset, and the values pybruin masks for its own credentials.

A store's module is imported only when that store is used: every run needs two facts about
every store (its settings prefix and its secret-valued settings), so :data:`STORE_MODULES`
states them next to the module's name, and ``tests/unit/test_secrets_registry.py`` checks
them against each module's own declaration. The local store has no prefix: its declaration
is read, which costs nothing a run does not load anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING

from pybruin.secrets.base import BackendError, SecretsBackend, StoreContext, StoreDeclaration

if TYPE_CHECKING:
    from pathlib import Path

    from pybruin.config.bruin_yml import Environment

#: Each store's name (in the order error messages list them) → the module declaring it, the prefix of its
#: settings, and its secret-valued settings, as that module's ``STORE`` declares them.
STORE_MODULES: Mapping[str, tuple[str, str | None, frozenset[str]]] = {
    "local": ("pybruin.secrets.local", None, frozenset({"SOPS_AGE_KEY"})),
    "vault": ("pybruin.secrets.vault", "BRUIN_VAULT_", frozenset({"BRUIN_VAULT_TOKEN"})),
    "doppler": ("pybruin.secrets.doppler", "BRUIN_DOPPLER_", frozenset({"BRUIN_DOPPLER_TOKEN"})),
    "aws": ("pybruin.secrets.aws", "BRUIN_AWS_", frozenset({"BRUIN_AWS_SECRET_ACCESS_KEY", "BRUIN_AWS_SESSION_TOKEN"})),
    "azure": ("pybruin.secrets.azure", "BRUIN_AZURE_", frozenset({"BRUIN_AZURE_CLIENT_SECRET"})),
    "gcp": ("pybruin.secrets.gcp", "BRUIN_GCP_", frozenset()),
    "keyring": ("pybruin.secrets.os_keyring", "BRUIN_KEYRING_", frozenset()),
}


class _Declarations(Mapping[str, StoreDeclaration]):
    """The stores by name: a store's module is imported when its declaration is first asked for."""

    def __getitem__(self, name: str) -> StoreDeclaration:
        return import_module(STORE_MODULES[name][0]).STORE

    def __iter__(self) -> Iterator[str]:
        return iter(STORE_MODULES)

    def __len__(self) -> int:
        return len(STORE_MODULES)


#: The stores by name, in the order error messages list them.
STORES: Mapping[str, StoreDeclaration] = _Declarations()

#: The store used when none is named: ``.bruin.yml``.
DEFAULT_STORE = "local"

#: The variables that choose the stores, rather than configure one of them.
SELECTION_VARIABLES: frozenset[str] = frozenset({"BRUIN_SECRETS_BACKEND", "BRUIN_SECRETS_FALLBACK_ON_ERROR"})

#: The settings whose values are themselves secrets (tokens, keys), as opposed to a host or a region.
SECRET_VALUED_VARIABLES: frozenset[str] = frozenset().union(*(secret for _, _, secret in STORE_MODULES.values()))


def __getattr__(name: str) -> frozenset[str]:
    # Every store's settings: reading it imports every store module, so it is built only when asked for.
    if name == "BACKEND_CREDENTIAL_VARIABLES":
        return SELECTION_VARIABLES.union(*(store.settings for store in STORES.values()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_backend_variable(name: str) -> bool:
    """Whether ``name`` is pybruin's store configuration, withheld from every asset whichever store is selected.

    A store's prefix counts as well as its known settings, so a new ``BRUIN_VAULT_*`` knob can never
    reach an asset just because a declaration was not updated (and every setting of a store with a prefix
    starts with it, so the prefix alone answers without importing the store's module).
    """
    return name in SELECTION_VARIABLES or any(
        name.startswith(prefix) if prefix else STORES[store].configures(name)
        for store, (_, prefix, _) in STORE_MODULES.items()
    )


def sdk_credentials(store_name: str) -> frozenset[str]:
    """The SDK credential variables of the store ``store_name`` names (each member, for a chain)."""
    return frozenset().union(*(STORES[name].sdk_credentials for name in store_name.split(",")))


def credential_values(environ: Mapping[str, str], store_name: str | None = None) -> list[str]:
    """The values pybruin masks for its own credentials: every secret-valued setting set in ``environ``.

    With ``store_name``, the SDK credential variables of that store (or chain) too.
    """
    names = SECRET_VALUED_VARIABLES | (sdk_credentials(store_name) if store_name else frozenset())
    return [environ[name] for name in sorted(names) if environ.get(name)]


def unsupported(name: str, chain: str | None = None) -> BackendError:
    """The error for a name no store has, listing the names that would work.

    For one name the text is upstream Bruin's, which lists only the remote stores (``.bruin.yml``
    is what no name means). In a chain, ``local`` is how ``.bruin.yml`` takes its place in the
    order, so it is listed too.
    """
    where = f' in chain "{chain}"' if chain else ""
    names = [store for store in STORES if chain or store != DEFAULT_STORE]
    return BackendError(f'unsupported secrets backend "{name}"{where}; possible values: {", ".join(names)}')


def open_backend(
    spec: str | None,
    environment: Environment,
    config_path: Path,
    environ: Mapping[str, str],
    *,
    fallback_on_error: bool = False,
) -> SecretsBackend:
    """Open the store named by ``--secrets-backend`` (already trimmed or not).

    No name means ``.bruin.yml``, as does ``local``. Remote stores validate their settings
    and log in here, but read nothing until a connection is asked for. Names separated
    by commas open a :class:`~pybruin.secrets.chain.ChainBackend` asking them in that order;
    with ``fallback_on_error`` a member that fails to open because it is unreachable or
    denies us is skipped like one that fails a read.
    """
    choice = (spec or "").strip()
    context = StoreContext(environ, environment, config_path)
    if "," not in choice:
        if choice and choice not in STORES:
            raise unsupported(choice)
        return _open(STORES[choice or DEFAULT_STORE], context)
    from pybruin.secrets.chain import FALLBACK_KINDS, ChainBackend, UnavailableBackend

    names = _chain_names(choice)
    members: list[SecretsBackend] = []
    try:
        for name in names:
            try:
                members.append(_open(STORES[name], context))
            except BackendError as err:
                if not (fallback_on_error and err.kind in FALLBACK_KINDS):
                    raise
                members.append(UnavailableBackend(name, err))
    except BaseException:
        for member in members:
            member.close()
        raise
    return ChainBackend(members, fallback_on_error=fallback_on_error)


def _chain_names(chain: str) -> list[str]:
    """The members of ``chain``, checked before any is opened: no empty, unknown or repeated name."""
    names = [name.strip() for name in chain.split(",")]
    for name in names:
        if not name:
            raise BackendError(f'invalid secrets backend chain "{chain}": empty backend name')
        if name not in STORES:
            raise unsupported(name, chain)
        if names.count(name) > 1:
            raise BackendError(f'invalid secrets backend chain "{chain}": "{name}" appears more than once')
    return names


def _open(store: StoreDeclaration, context: StoreContext) -> SecretsBackend:
    try:
        return store.open(context)
    except BackendError as err:
        raise BackendError(f"failed to initialize {store.label}: {err}", kind=err.kind) from None
    except ImportError as err:
        package = (err.name or "").partition(".")[0]
        message = f"failed to initialize {store.label}: Python package '{package}' is not installed"
        raise BackendError(message) from None
