"""The store registry: what each store declares, what follows from it, and opening stores and chains."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from fixtures.memory_store import MemoryStore, replace_opener
from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import GenericConnection
from pybruin.secrets import aws, azure, doppler, gcp, local, os_keyring, registry, vault
from pybruin.secrets.base import BackendError, SecretsBackend, StoreContext, StoreDeclaration
from pybruin.secrets.chain import ChainBackend
from pybruin.secrets.local import LocalBackend
from pybruin.secrets.registry import (
    BACKEND_CREDENTIAL_VARIABLES,
    SECRET_VALUED_VARIABLES,
    STORE_MODULES,
    STORES,
    credential_values,
    is_backend_variable,
    open_backend,
    sdk_credentials,
)

ENVIRONMENT = Environment(
    name="default", schema_prefix="", connections={"LOCAL": GenericConnection(name="LOCAL", value="from-local")}
)
CONFIG = Path("/project/.bruin.yml")
SINGLE_VALUES = "possible values: vault, doppler, aws, azure, gcp, keyring"
CHAIN_VALUES = "possible values: local, vault, doppler, aws, azure, gcp, keyring"

# name → (module, label, settings, prefix, secret-valued settings, SDK credentials)
DECLARED = {
    "local": (
        local,
        "config file",
        {
            "BRUIN_CONFIG_FILE_CONTENT",
            "SOPS_AGE_KEY",
            "SOPS_AGE_KEY_FILE",
            "SOPS_AGE_KEY_CMD",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        },
        None,
        {"SOPS_AGE_KEY"},
        set(),
    ),
    "vault": (
        vault,
        "vault client",
        {
            "BRUIN_VAULT_HOST",
            "BRUIN_VAULT_TOKEN",
            "BRUIN_VAULT_ROLE",
            "BRUIN_VAULT_PATH",
            "BRUIN_VAULT_MOUNT_PATH",
            "BRUIN_VAULT_K8S_AUTH_MOUNT",
            "BRUIN_VAULT_TIMEOUT",
            "BRUIN_VAULT_RETRY_WAIT_MIN",
            "BRUIN_VAULT_RETRY_WAIT_MAX",
            "BRUIN_VAULT_MAX_RETRIES",
        },
        "BRUIN_VAULT_",
        {"BRUIN_VAULT_TOKEN"},
        {"VAULT_TOKEN"},
    ),
    "doppler": (
        doppler,
        "doppler client",
        {
            "BRUIN_DOPPLER_TOKEN",
            "BRUIN_DOPPLER_PROJECT",
            "BRUIN_DOPPLER_CONFIG",
            "BRUIN_DOPPLER_API_HOST",
            "BRUIN_DOPPLER_TIMEOUT",
        },
        "BRUIN_DOPPLER_",
        {"BRUIN_DOPPLER_TOKEN"},
        {"DOPPLER_TOKEN"},
    ),
    "aws": (
        aws,
        "AWS Secrets Manager client",
        {
            "BRUIN_AWS_ACCESS_KEY_ID",
            "BRUIN_AWS_SECRET_ACCESS_KEY",
            "BRUIN_AWS_SESSION_TOKEN",
            "BRUIN_AWS_REGION",
            "BRUIN_AWS_TIMEOUT",
        },
        "BRUIN_AWS_",
        {"BRUIN_AWS_SECRET_ACCESS_KEY", "BRUIN_AWS_SESSION_TOKEN"},
        {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"},
    ),
    "azure": (
        azure,
        "Azure Key Vault client",
        {
            "BRUIN_AZURE_KEYVAULT_URL",
            "BRUIN_AZURE_AUTH_METHOD",
            "BRUIN_AZURE_TENANT_ID",
            "BRUIN_AZURE_CLIENT_ID",
            "BRUIN_AZURE_CLIENT_SECRET",
            "BRUIN_AZURE_AUTHORITY_HOST",
            "BRUIN_AZURE_CA_BUNDLE",
            "BRUIN_AZURE_KEYVAULT_DNS_SUFFIXES",
            "BRUIN_AZURE_TIMEOUT",
        },
        "BRUIN_AZURE_",
        {"BRUIN_AZURE_CLIENT_SECRET"},
        {"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD"},
    ),
    "gcp": (
        gcp,
        "GCP Secret Manager client",
        {
            "BRUIN_GCP_PROJECT",
            "BRUIN_GCP_CREDENTIALS_FILE",
            "BRUIN_GCP_LOCATION",
            "BRUIN_GCP_VERSIONS",
            "BRUIN_GCP_ENDPOINT",
            "BRUIN_GCP_TIMEOUT",
            "BRUIN_GCP_MAX_RETRIES",
            "BRUIN_GCP_RETRY_WAIT_MIN",
            "BRUIN_GCP_RETRY_WAIT_MAX",
        },
        "BRUIN_GCP_",
        set(),
        {"GOOGLE_APPLICATION_CREDENTIALS"},
    ),
    "keyring": (
        os_keyring,
        "OS keyring",
        {"BRUIN_KEYRING_SERVICE", "BRUIN_KEYRING_TIMEOUT"},
        "BRUIN_KEYRING_",
        set(),
        set(),
    ),
}


def open_error(spec: str, environ: dict[str, str] | None = None) -> BackendError:
    with pytest.raises(BackendError) as caught:
        open_backend(spec, ENVIRONMENT, CONFIG, environ or {})
    return caught.value


# --- declarations ---------------------------------------------------------------------------------


def test_the_registry_lists_every_store_module_in_order() -> None:
    assert list(STORES) == ["local", "vault", "doppler", "aws", "azure", "gcp", "keyring"]
    assert all(STORES[name] is module.STORE for name, (module, *_) in DECLARED.items())


@pytest.mark.parametrize("name", DECLARED)
def test_what_each_store_declares(name: str) -> None:
    _, label, settings, prefix, secret, sdk = DECLARED[name]
    store = STORES[name]
    assert (store.name, store.label, store.settings_prefix) == (name, label, prefix)
    assert (store.settings, store.secret_settings, store.sdk_credentials) == (settings, secret, sdk)


@pytest.mark.parametrize("name", DECLARED)
def test_the_registrys_table_states_what_each_module_declares(name: str) -> None:
    module, prefix, secret = STORE_MODULES[name]
    declared = DECLARED[name][0]
    assert module == declared.__name__
    assert (prefix, secret) == (declared.STORE.settings_prefix, declared.STORE.secret_settings)


def test_the_table_lists_every_store_module() -> None:
    package = Path(registry.__file__).parent
    declaring = {path.stem for path in package.glob("*.py") if "\nSTORE = StoreDeclaration(" in path.read_text()}
    assert {module.rpartition(".")[2] for module, _, _ in STORE_MODULES.values()} == declaring


def test_a_run_imports_only_the_stores_it_uses() -> None:
    code = (
        "import sys\n"
        "from pybruin.secrets import registry\n"
        "registry.is_backend_variable('BRUIN_VAULT_TOKEN'), registry.credential_values({}, 'local')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('pybruin.secrets.'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["pybruin.secrets.base", "pybruin.secrets.local", "pybruin.secrets.registry"]


@pytest.mark.parametrize("name", DECLARED)
def test_every_variable_a_store_module_names_is_one_of_its_settings(name: str) -> None:
    module = DECLARED[name][0]
    text = Path(module.__file__).read_text()
    named = set(re.findall(r"BRUIN_[A-Z0-9_]*[A-Z0-9]\b", text)) - {"BRUIN_CONFIG_FILE_CONTENT"}
    assert named <= STORES[name].settings


def test_the_variable_lists_follow_from_the_declarations() -> None:
    settings = set().union(*(declared[2] for declared in DECLARED.values()))
    selection = {"BRUIN_SECRETS_BACKEND", "BRUIN_SECRETS_FALLBACK_ON_ERROR"}
    secret_valued = {
        "BRUIN_VAULT_TOKEN",
        "BRUIN_DOPPLER_TOKEN",
        "BRUIN_AWS_SECRET_ACCESS_KEY",
        "BRUIN_AWS_SESSION_TOKEN",
        "BRUIN_AZURE_CLIENT_SECRET",
        "SOPS_AGE_KEY",
    }
    assert (selection | settings, secret_valued) == (BACKEND_CREDENTIAL_VARIABLES, SECRET_VALUED_VARIABLES)


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ({"settings": frozenset({"BRUIN_X_HOST"}), "secret_settings": frozenset({"BRUIN_X_TOKEN"})}, "secret"),
        ({"settings": frozenset({"BRUIN_X_HOST", "X_TOKEN"}), "settings_prefix": "BRUIN_X_"}, "BRUIN_X_"),
    ],
)
def test_inconsistent_declarations_are_refused(declaration: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        StoreDeclaration(name="x", label="x client", open=lambda context: MemoryStore("x"), **declaration)  # type: ignore[arg-type]


def test_importing_the_registry_loads_no_sdk() -> None:
    code = "import sys, pybruin.secrets.registry; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    heavy = ("boto3", "botocore", "azure", "hvac", "httpx", "requests", "urllib3", "google", "keyring", "secretstorage")
    assert not [module for module in loaded if module.split(".")[0] in heavy]


# --- withheld and masked variables ------------------------------------------------------------------


@pytest.mark.parametrize("name", [*BACKEND_CREDENTIAL_VARIABLES, "BRUIN_CONFIG_FILE_CONTENT"])
def test_every_declared_setting_is_withheld(name: str) -> None:
    assert is_backend_variable(name)


@pytest.mark.parametrize(
    "name", ["BRUIN_VAULT_NAMESPACE", "BRUIN_DOPPLER_ENVIRONMENT", "BRUIN_AWS_PROFILE", "BRUIN_AZURE_CLOUD"]
)
def test_future_settings_under_a_stores_prefix_are_withheld(name: str) -> None:
    assert is_backend_variable(name)


@pytest.mark.parametrize(
    "name",
    ["BRUIN_CONFIG_FILE", "BRUIN_VAULT", "BRUIN_SECRETS", "BRUIN_START_DATE", "VAULT_TOKEN", "AWS_ACCESS_KEY_ID"],
)
def test_other_variables_are_not_store_configuration(name: str) -> None:
    assert not is_backend_variable(name), "SDK credentials are withheld only while their store is selected"


def test_sdk_credentials_of_a_store_and_a_chain() -> None:
    assert sdk_credentials("local") == frozenset()
    assert sdk_credentials("vault") == {"VAULT_TOKEN"}
    assert sdk_credentials("vault,local,doppler") == {"VAULT_TOKEN", "DOPPLER_TOKEN"}


def test_credential_values() -> None:
    environ = {
        "BRUIN_VAULT_TOKEN": "hvs.one",
        "BRUIN_VAULT_HOST": "https://vault.example",
        "BRUIN_AWS_SESSION_TOKEN": "",
        "VAULT_TOKEN": "hvs.two",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "HOME": "/root",
    }
    assert credential_values(environ) == ["hvs.one"], "before a store is chosen: secret-valued settings only"
    assert credential_values(environ, "vault") == ["hvs.one", "hvs.two"]
    assert credential_values(environ, "aws,vault") == ["aws-secret", "hvs.one", "hvs.two"]


# --- opening one store ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [None, "", "  ", "local", " local "])
def test_no_name_or_local_opens_the_config_file(spec: str | None) -> None:
    backend = open_backend(spec, ENVIRONMENT, CONFIG, {})
    assert isinstance(backend, LocalBackend)
    assert (backend.environment, backend.config_path) == (ENVIRONMENT, CONFIG)


@pytest.mark.parametrize(
    ("spec", "environ", "message"),
    [
        ("vault", {}, "failed to initialize vault client: BRUIN_VAULT_HOST env variable not set"),
        ("doppler", {}, "failed to initialize doppler client: BRUIN_DOPPLER_TOKEN env variable not set"),
        (
            "aws",
            {"BRUIN_AWS_ACCESS_KEY_ID": "AKIA"},
            "failed to initialize AWS Secrets Manager client: BRUIN_AWS_SECRET_ACCESS_KEY env variable not set",
        ),
        ("azure", {}, "failed to initialize Azure Key Vault client: BRUIN_AZURE_KEYVAULT_URL env variable not set"),
    ],
)
def test_each_store_opens_from_the_environment_and_its_errors_carry_its_label(
    spec: str, environ: dict[str, str], message: str
) -> None:
    assert str(open_error(spec, environ)) == message


@pytest.mark.parametrize("name", DECLARED)
def test_a_failure_to_open_keeps_its_kind(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(context: StoreContext) -> SecretsBackend:
        raise BackendError("login refused", kind="denied")

    replace_opener(monkeypatch, name, denied)
    error = open_error(name)
    assert (str(error), error.kind) == (f"failed to initialize {DECLARED[name][1]}: login refused", "denied")


def test_a_missing_sdk_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def without_sdk(context: StoreContext) -> SecretsBackend:
        raise ModuleNotFoundError("No module named 'azure.identity'", name="azure.identity")

    replace_opener(monkeypatch, "azure", without_sdk)
    error = open_error("azure")
    assert str(error) == "failed to initialize Azure Key Vault client: Python package 'azure' is not installed"


def test_a_store_opens_from_the_whole_context(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[StoreContext] = []
    replace_opener(monkeypatch, "doppler", lambda context: seen.append(context) or MemoryStore("doppler"))
    environ = {"BRUIN_DOPPLER_TOKEN": "dp"}
    assert open_backend(" doppler ", ENVIRONMENT, CONFIG, environ).name == "doppler"
    assert seen == [StoreContext(environ, ENVIRONMENT, CONFIG)]


@pytest.mark.parametrize("spec", ["nope", "Vault", "aws-secrets-manager", "LOCAL"])
def test_an_unknown_name_lists_upstreams_possible_values(spec: str) -> None:
    assert str(open_error(f" {spec} ")) == f'unsupported secrets backend "{spec}"; {SINGLE_VALUES}'


def test_possible_values_come_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    other = StoreDeclaration(name="infisical", label="Infisical client", open=lambda context: MemoryStore("infisical"))
    monkeypatch.setattr(registry, "STORES", MappingProxyType({**registry.STORES, "infisical": other}))
    assert str(open_error("nope")) == f'unsupported secrets backend "nope"; {SINGLE_VALUES}, infisical'
    assert str(open_error("infisical,nope")).endswith(f"{CHAIN_VALUES}, infisical")
    assert open_backend("infisical", ENVIRONMENT, CONFIG, {}).name == "infisical"


# --- opening a chain --------------------------------------------------------------------------------


def test_a_chain_opens_its_members_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = {name: MemoryStore(name) for name in ("vault", "aws")}
    for name, store in opened.items():
        replace_opener(monkeypatch, name, lambda context, store=store: store)
    chain = open_backend(" vault , local,aws ", ENVIRONMENT, CONFIG, {})
    assert isinstance(chain, ChainBackend)
    assert chain.name == "vault,local,aws"
    assert chain.members[0] is opened["vault"] and chain.members[2] is opened["aws"]
    assert isinstance(chain.members[1], LocalBackend)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("vault,nope", f'unsupported secrets backend "nope" in chain "vault,nope"; {CHAIN_VALUES}'),
        ("local,Vault", f'unsupported secrets backend "Vault" in chain "local,Vault"; {CHAIN_VALUES}'),
        ("vault,", 'invalid secrets backend chain "vault,": empty backend name'),
        (",vault", 'invalid secrets backend chain ",vault": empty backend name'),
        ("vault,,aws", 'invalid secrets backend chain "vault,,aws": empty backend name'),
        (" , ", 'invalid secrets backend chain ",": empty backend name'),
        ("vault,aws,vault", 'invalid secrets backend chain "vault,aws,vault": "vault" appears more than once'),
        ("local, local", 'invalid secrets backend chain "local, local": "local" appears more than once'),
    ],
)
def test_bad_chains_are_refused_before_any_member_opens(
    spec: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    for name in ("vault", "aws"):
        replace_opener(monkeypatch, name, lambda context, name=name: opened.append(name) or MemoryStore(name))
    assert str(open_error(spec)) == message
    assert opened == []


# --- chain queries through the interface ------------------------------------------------------------


def test_a_single_store_answers_the_chain_queries_for_itself() -> None:
    store: SecretsBackend = MemoryStore("vault", {"X": "from-vault"})
    assert store.answered_by("X") == "vault"
    assert store.shadowed("X") == []
    assert not store.is_config_file
    config_file: SecretsBackend = open_backend("local", ENVIRONMENT, CONFIG, {})
    assert config_file.is_config_file
    assert (config_file.answered_by("LOCAL"), config_file.shadowed("LOCAL")) == ("local", [])


def test_a_chain_answers_them_for_its_members(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = MemoryStore("vault", {"LOCAL": "shadowed", "REMOTE": "from-vault"})
    replace_opener(monkeypatch, "vault", lambda context: remote)
    chain: SecretsBackend = open_backend("local,vault", ENVIRONMENT, CONFIG, {})
    assert not chain.is_config_file, "a chain with .bruin.yml in it still looks names up"
    assert (chain.answered_by("LOCAL"), chain.shadowed("LOCAL")) == ("local", ["vault"])
    assert (chain.answered_by("REMOTE"), chain.shadowed("REMOTE")) == ("vault", [])
    assert (chain.answered_by("NOPE"), chain.shadowed("NOPE")) == (None, [])
    assert remote.reads == {"LOCAL": 1, "REMOTE": 1, "NOPE": 1}
