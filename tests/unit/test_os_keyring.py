"""KeyringBackend's own rules, with keyring backends that misbehave on purpose (the real Secret Service is in
tests/e2e/test_keyring_store.py): the deadline, failures in our words, and which backends are refused."""

from __future__ import annotations

import threading

import pytest
from keyring.backend import KeyringBackend as Backend
from keyring.errors import InitError, KeyringLocked, PasswordSetError

from pybruin.secrets.base import BackendError
from pybruin.secrets.os_keyring import KeyringBackend, secure_keyring, service_name

CANARY = "keyring-canary-5e0c"


class Scripted(Backend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, answer: object = None, *, block: threading.Event | None = None) -> None:
        super().__init__()
        self.answer = answer
        self.block = block
        self.calls: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append((service, username))
        if self.block is not None:
            self.block.wait(10)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer  # type: ignore[return-value]

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"cannot store {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


def store(keyring: Backend, timeout: float = 5.0) -> KeyringBackend:
    return KeyringBackend("bruin:/project", keyring, timeout=timeout, environ={})


def read_error(backend: KeyringBackend) -> BackendError:
    with pytest.raises(BackendError) as caught:
        backend.get_connection("API_KEY")
    assert CANARY not in str(caught.value)
    return caught.value


def test_reads_an_entry_of_its_service() -> None:
    keyring = Scripted('{"type": "generic", "details": {"value": "v-123456"}}')

    connection = store(keyring).get_connection("API_KEY")

    assert connection is not None and connection.injection_value() == "v-123456"
    assert keyring.calls == [("bruin:/project", "API_KEY")]


def test_a_missing_entry_is_not_found() -> None:
    assert store(Scripted(None)).get_connection("API_KEY") is None


def test_a_keyring_that_does_not_answer_in_time() -> None:
    release = threading.Event()
    try:
        error = read_error(store(Scripted("{}", block=release), timeout=0.05))
    finally:
        release.set()
    assert (str(error), error.kind) == (
        "failed to read secret 'API_KEY' from the OS keyring: no answer within 50ms (BRUIN_KEYRING_TIMEOUT)",
        "unreachable",
    )


@pytest.mark.parametrize(
    "failure", [KeyringLocked(CANARY), InitError(f"Failed to create the collection: Prompt dismissed.. {CANARY}")]
)
def test_a_locked_keyring(failure: Exception) -> None:
    error = read_error(store(Scripted(failure)))
    assert (str(error), error.kind) == (
        "the OS keyring is locked; unlock it (log in to the desktop session) and try again",
        "denied",
    )


def test_other_failures_are_named_by_their_class_only() -> None:
    error = read_error(store(Scripted(PasswordSetError(CANARY))))
    assert str(error) == "failed to read secret 'API_KEY' from the OS keyring: PasswordSetError"
    with pytest.raises(BackendError) as caught:
        store(Scripted()).store("X", CANARY)
    assert str(caught.value) == "failed to store secret 'X' in the OS keyring: PasswordSetError"


def test_a_malformed_entry_is_reported_without_its_text() -> None:
    error = read_error(store(Scripted(f"not json {CANARY}")))
    reason = "failed to parse secret as JSON: Expecting value at line 1 column 1"
    assert (str(error), error.kind) == (reason, "malformed")


def test_the_service_is_the_config_folder_unless_named(tmp_path) -> None:
    assert service_name(tmp_path / ".bruin.yml", {}) == f"bruin:{tmp_path}"
    assert service_name(tmp_path / ".bruin.yml", {"BRUIN_KEYRING_SERVICE": " team "}) == "team"


@pytest.mark.parametrize(
    ("backend", "found"),
    [
        ("keyrings.alt.file.PlaintextKeyring", "keyrings.alt.file.PlaintextKeyring"),
        ("keyring.backends.fail.Keyring", "keyring.backends.fail.Keyring"),
        ("keyring.backends.null.Keyring", "keyring.backends.null.Keyring"),
    ],
)
def test_insecure_backends_are_refused(monkeypatch: pytest.MonkeyPatch, backend: str, found: str) -> None:
    import keyring
    from keyring.core import load_keyring

    monkeypatch.setattr(keyring.core, "_keyring_backend", load_keyring(backend))
    with pytest.raises(BackendError) as caught:
        secure_keyring()
    assert str(caught.value).startswith(f"no secure OS keyring is available (found: {found})")
