"""Backend chains: not found falls through, failures fail closed, each name read once per member."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fixtures.memory_store import MemoryStore, replace_opener
from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import Connection, GenericConnection
from pybruin.secrets.base import BackendError, SecretsBackend
from pybruin.secrets.cache import ConnectionCache
from pybruin.secrets.chain import ChainBackend, MemberError
from pybruin.secrets.local import LocalBackend
from pybruin.secrets.registry import open_backend
from pybruin.secrets.view import describe_missing

HINT = "--secrets-fallback-on-error would try the next backend"
ENVIRONMENT = Environment(
    name="default",
    schema_prefix="",
    connections={"LOCAL": GenericConnection(name="LOCAL", value="from-local")},
)
CONFIG = Path("/project/.bruin.yml")


class Store(MemoryStore):
    """An in-memory backend whose reads wait at a gate, open unless a test closes it."""

    def __init__(self, name: str, answers: dict[str, str | BackendError] | None = None) -> None:
        super().__init__(name, answers)
        self.gate = threading.Event()
        self.gate.set()

    def get_connection(self, name: str) -> Connection | None:
        assert self.gate.wait(timeout=10)
        return super().get_connection(name)


def failure(kind: str, store: str = "a") -> BackendError:
    return BackendError(f"failed to read secret 'X' from {store}: {kind}", kind=kind)  # type: ignore[arg-type]


def value_of(connection: Connection | None) -> str:
    assert isinstance(connection, GenericConnection)
    return connection.value


# --- lookups --------------------------------------------------------------------------------------


def test_name_is_the_members_in_order() -> None:
    assert ChainBackend([Store("vault"), Store("aws"), Store("local")]).name == "vault,aws,local"


def test_not_found_falls_through_to_the_next_member() -> None:
    first, second = Store("a"), Store("b", {"X": "from-b"})
    chain = ChainBackend([first, second])
    assert value_of(chain.get_connection("X")) == "from-b"
    assert chain.answered_by("X") == "b"
    assert first.reads["X"] == 1 and second.reads["X"] == 1


def test_first_member_holding_the_name_answers_and_later_ones_are_not_asked() -> None:
    first, second = Store("a", {"X": "from-a"}), Store("b", {"X": "from-b"})
    chain = ChainBackend([first, second])
    assert value_of(chain.get_connection("X")) == "from-a"
    assert chain.answered_by("X") == "a"
    assert second.reads["X"] == 0


def test_nobody_has_it() -> None:
    chain = ChainBackend([Store("a"), Store("b")])
    assert chain.get_connection("X") is None
    assert chain.answered_by("X") is None
    assert chain.shadowed("X") == []


@pytest.mark.parametrize("kind", ["denied", "unreachable"])
def test_a_member_that_cannot_answer_fails_closed(kind: str) -> None:
    second = Store("b", {"X": "from-b"})
    chain = ChainBackend([Store("a", {"X": failure(kind)}), second])
    with pytest.raises(MemberError) as caught:
        chain.get_connection("X")
    assert caught.value.kind == kind
    assert caught.value.backend == "a"
    assert str(caught.value) == (
        f"failed to read secret 'X' from a: {kind} (secrets backend chain 'a,b' stops at 'a'; {HINT})"
    )
    with pytest.raises(MemberError):
        chain.answered_by("X")
    assert second.reads["X"] == 0


@pytest.mark.parametrize("kind", ["denied", "unreachable"])
def test_fallback_on_error_tries_the_next_member(kind: str) -> None:
    first = Store("a", {"X": failure(kind)})
    chain = ChainBackend([first, Store("b", {"X": "from-b"})], fallback_on_error=True)
    assert value_of(chain.get_connection("X")) == "from-b"
    assert chain.answered_by("X") == "b"
    assert first.reads["X"] == 1


def test_fallback_that_finds_nothing_raises_the_first_failure_not_missing() -> None:
    chain = ChainBackend(
        [Store("a", {"X": failure("unreachable")}), Store("b", {"X": failure("denied", "b")}), Store("c")],
        fallback_on_error=True,
    )
    with pytest.raises(MemberError) as caught:
        chain.get_connection("X")
    assert (caught.value.kind, caught.value.backend) == ("unreachable", "a")
    assert str(caught.value) == "failed to read secret 'X' from a: unreachable"


@pytest.mark.parametrize("kind", ["malformed", "wrong_type", "error"])
def test_a_broken_secret_fails_closed_even_with_fallback(kind: str) -> None:
    second = Store("b", {"X": "from-b"})
    chain = ChainBackend([Store("a", {"X": failure(kind)}), second], fallback_on_error=True)
    with pytest.raises(MemberError) as caught:
        chain.get_connection("X")
    assert (caught.value.kind, caught.value.backend) == (kind, "a")
    assert str(caught.value) == f"failed to read secret 'X' from a: {kind}"
    assert second.reads["X"] == 0


def test_the_last_member_failing_has_no_next_backend_to_suggest() -> None:
    chain = ChainBackend([Store("a"), Store("b", {"X": failure("denied", "b")})])
    with pytest.raises(MemberError) as caught:
        chain.get_connection("X")
    assert str(caught.value) == "failed to read secret 'X' from b: denied"
    assert caught.value.backend == "b"


# --- shadows ----------------------------------------------------------------------------------------


def test_shadowed_lists_later_members_holding_the_name() -> None:
    last = Store("c", {"X": "from-c"})
    chain = ChainBackend([Store("a", {"X": "from-a"}), Store("b", {"X": failure("unreachable", "b")}), last])
    assert last.reads["X"] == 0
    assert chain.shadowed("X") == ["c"], "a member that cannot answer is not counted as shadowed"
    assert chain.shadowed("Y") == []


def test_shadowed_starts_after_the_member_that_answered() -> None:
    chain = ChainBackend([Store("a"), Store("b", {"X": "from-b"}), Store("c", {"X": "from-c"})])
    assert chain.shadowed("X") == ["c"]


# --- memo -------------------------------------------------------------------------------------------


def test_one_read_per_name_per_member_whoever_asks() -> None:
    members = [Store("a", {"A": "from-a"}), Store("b", {"B": "from-b"}), Store("c", {"A": "c", "B": "c", "C": "c"})]
    for member in members:
        member.gate.clear()
    chain = ChainBackend(members)
    cache = ConnectionCache(chain)
    names = ["A", "B", "C", "D"] * 8
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(ask, cache, chain, name) for name in names]
        for member in members:
            member.gate.set()
        answers = [future.result() for future in futures]
    assert set(answers) == {("A", "a"), ("B", "b"), ("C", "c"), ("D", None)}
    for name in "ABCD":
        chain.shadowed(name)
    assert members[0].reads == {"A": 1, "B": 1, "C": 1, "D": 1}
    assert members[1].reads == {"A": 1, "B": 1, "C": 1, "D": 1}
    assert members[2].reads == {"A": 1, "B": 1, "C": 1, "D": 1}


def ask(cache: ConnectionCache, chain: ChainBackend, name: str) -> tuple[str, str | None]:
    """What a run does per name: a cached lookup, then which member answered."""
    cache.get(name)
    chain.get_connection(name)
    return name, chain.answered_by(name)


def test_failures_are_remembered_too() -> None:
    first = Store("a", {"X": failure("denied")})
    chain = ChainBackend([first, Store("b")])
    for _ in range(3):
        with pytest.raises(MemberError):
            chain.get_connection("X")
    assert first.reads["X"] == 1


def test_close_closes_every_member() -> None:
    members = [Store("a"), Store("b")]
    ChainBackend(members).close()
    assert all(member.closed for member in members)


# --- open_backend -----------------------------------------------------------------------------------


def open_spec(spec: str, environ: dict[str, str] | None = None, **kwargs: bool) -> SecretsBackend:
    return open_backend(spec, ENVIRONMENT, CONFIG, environ or {}, **kwargs)


@pytest.mark.parametrize("spec", [None, "", "  ", "local", " local "])
def test_local_alone_is_the_config_file(spec: str | None) -> None:
    assert isinstance(open_backend(spec, ENVIRONMENT, CONFIG, {}), LocalBackend)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", 'unsupported secrets backend "nope"; possible values: vault, doppler, aws, azure, gcp, keyring'),
        ("Vault", 'unsupported secrets backend "Vault"; possible values: vault, doppler, aws, azure, gcp, keyring'),
        (
            "vault,nope",
            'unsupported secrets backend "nope" in chain "vault,nope"; '
            "possible values: local, vault, doppler, aws, azure, gcp, keyring",
        ),
        ("local, ,vault", 'invalid secrets backend chain "local, ,vault": empty backend name'),
        ("vault,", 'invalid secrets backend chain "vault,": empty backend name'),
        ("local,vault,local", 'invalid secrets backend chain "local,vault,local": "local" appears more than once'),
    ],
)
def test_bad_specs_name_the_bad_element(spec: str, message: str) -> None:
    with pytest.raises(BackendError) as caught:
        open_spec(spec)
    assert str(caught.value) == message


def test_a_chain_of_local_and_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = Store("vault", {"REMOTE": "from-vault", "LOCAL": "shadowed"})
    replace_opener(monkeypatch, "vault", lambda context: remote)
    chain = open_spec(" local , vault ")
    assert isinstance(chain, ChainBackend) and chain.name == "local,vault"
    assert chain.answered_by("LOCAL") == "local" and chain.shadowed("LOCAL") == ["vault"]
    assert chain.answered_by("REMOTE") == "vault"
    assert describe_missing("NOPE", chain.name, CONFIG, "default") == (
        "connection 'NOPE' not found in secrets backend 'local,vault'"
    )


def test_a_member_that_cannot_be_configured_always_fails() -> None:
    with pytest.raises(BackendError) as caught:
        open_spec("local,vault", fallback_on_error=True)
    assert str(caught.value) == "failed to initialize vault client: BRUIN_VAULT_HOST env variable not set"


def unreachable_vault(context: object) -> SecretsBackend:
    raise BackendError("failed to login to the secrets backend: could not connect to Vault", kind="unreachable")


def test_a_member_that_cannot_be_reached_when_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = Store("aws")
    replace_opener(monkeypatch, "vault", unreachable_vault)
    replace_opener(monkeypatch, "aws", lambda context: opened)
    expected = "failed to initialize vault client: failed to login to the secrets backend: could not connect to Vault"

    with pytest.raises(BackendError) as caught:
        open_spec("aws,vault,local")
    assert (str(caught.value), caught.value.kind) == (expected, "unreachable")
    assert opened.closed, "members opened before the failure are closed"

    chain = open_spec("vault,local", fallback_on_error=True)
    assert isinstance(chain, ChainBackend)
    assert chain.answered_by("LOCAL") == "local"
    with pytest.raises(MemberError) as missing:
        chain.get_connection("NOPE")
    assert (str(missing.value), missing.value.kind, missing.value.backend) == (expected, "unreachable", "vault")
