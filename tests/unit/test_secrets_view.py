"""The view commands read a store through: cached answers labelled with their source, and what to mask."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fixtures.memory_store import MemoryStore
from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import GenericConnection
from pybruin.secrets.base import BackendError, SecretsBackend
from pybruin.secrets.chain import ChainBackend
from pybruin.secrets.local import LocalBackend
from pybruin.secrets.view import Resolved, StoreView, source_label

CONFIG = Path("/project/.bruin.yml")
ENVIRONMENT = Environment(
    name="prod", schema_prefix="", connections={"LOCAL": GenericConnection(name="LOCAL", value="from-local")}
)


def view_of(store: SecretsBackend, environ: dict[str, str] | None = None) -> StoreView:
    return StoreView(store, config_path=CONFIG, environment_name="prod", environ=environ or {})


def local() -> LocalBackend:
    return LocalBackend(ENVIRONMENT, CONFIG)


def value_of(resolved: Resolved | None) -> tuple[str, str]:
    assert resolved is not None and isinstance(resolved.connection, GenericConnection)
    return resolved.connection.value, resolved.source


def test_answers_from_the_config_file_are_labelled_by_the_file() -> None:
    view = view_of(local())
    assert (view.store_name, view.is_config_file) == ("local", True)
    assert value_of(view.get("LOCAL")) == ("from-local", ".bruin.yml")
    assert view.get("NOPE") is None
    assert view.missing_message("NOPE") == (
        f"connection 'NOPE' not found in config file '{CONFIG}' under environment 'prod'"
    )


def test_answers_from_a_store_are_labelled_by_its_name() -> None:
    view = view_of(MemoryStore("vault", {"X": "from-vault"}))
    assert (view.store_name, view.is_config_file) == ("vault", False)
    assert value_of(view.get("X")) == ("from-vault", "vault")
    assert view.shadowed("X") == []
    assert view.missing_message("NOPE") == "connection 'NOPE' not found in secrets backend 'vault'"


def test_a_chains_answers_are_labelled_by_the_member_that_had_them() -> None:
    remote = MemoryStore("vault", {"LOCAL": "hidden", "REMOTE": "from-vault"})
    view = view_of(ChainBackend([local(), remote]))
    assert (view.store_name, view.is_config_file) == ("local,vault", False)
    assert value_of(view.get("LOCAL")) == ("from-local", ".bruin.yml")
    assert value_of(view.get("REMOTE")) == ("from-vault", "vault")
    assert view.shadowed("LOCAL") == ["vault"]
    assert view.missing_message("NOPE") == "connection 'NOPE' not found in secrets backend 'local,vault'"
    aws_first = view_of(ChainBackend([MemoryStore("aws", {"LOCAL": "from-aws"}), local()]))
    assert aws_first.shadowed("LOCAL") == [".bruin.yml"]


def test_one_read_per_name_however_many_ask() -> None:
    store = MemoryStore("doppler", {"A": "a", "B": "b"})
    view = view_of(store)
    view.prefetch(["A", "B", "A", "C"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(view.get, ["A", "B", "C"] * 10))
    assert [value_of(result)[0] for result in results if result] == ["a", "b"] * 10
    assert store.reads == {"A": 1, "B": 1, "C": 1}


def test_failures_name_the_store_that_failed() -> None:
    denied = BackendError("failed to read secret 'X' from AWS Secrets Manager: AccessDeniedException", "denied")
    single = view_of(MemoryStore("aws", {"X": denied}))
    with pytest.raises(BackendError) as caught:
        single.get("X")
    assert single.failure_source(caught.value) == "aws"
    chain = view_of(ChainBackend([MemoryStore("vault"), MemoryStore("aws", {"X": denied}), local()]))
    with pytest.raises(BackendError) as caught:
        chain.get("X")
    assert chain.failure_source(caught.value) == "aws"
    assert caught.value.kind == "denied"


def test_credential_values_are_the_stores_own_secrets_present_in_the_environment() -> None:
    environ = {
        "BRUIN_DOPPLER_TOKEN": "dp.st.one",
        "BRUIN_AZURE_CLIENT_SECRET": "azure-secret",
        "BRUIN_DOPPLER_PROJECT": "data",
        "DOPPLER_TOKEN": "dp.st.two",
        "VAULT_TOKEN": "hvs.not-ours-unless-vault-is-selected",
        "AWS_SECRET_ACCESS_KEY": "",
    }
    view = view_of(ChainBackend([MemoryStore("doppler"), MemoryStore("aws")]), environ)
    assert view.sdk_credentials == {
        "DOPPLER_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    }
    assert sorted(view.credential_values()) == ["azure-secret", "dp.st.one", "dp.st.two"]
    assert view_of(local(), environ).sdk_credentials == frozenset()


def test_close_closes_the_store() -> None:
    store = MemoryStore("vault")
    view_of(store).close()
    assert store.closed


@pytest.mark.parametrize(("name", "label"), [("local", ".bruin.yml"), ("vault", "vault"), ("aws", "aws")])
def test_source_label(name: str, label: str) -> None:
    assert source_label(name) == label
