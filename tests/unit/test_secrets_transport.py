"""How the HTTP backends describe failed requests: status codes and OS reasons, never the text they carried."""

from __future__ import annotations

import pytest

from pybruin.secrets.transport import http_status_text, is_header_safe, is_transient_status, network_reason, status_kind

CANARY = "canary-2d4b8f10-transport"


def test_status_text_uses_the_standard_phrase() -> None:
    assert http_status_text(503) == "HTTP status 503 (Service Unavailable)"
    assert http_status_text(599) == "HTTP status 599"


def test_network_reason_is_the_os_reason_found_along_the_chain() -> None:
    class NewConnectionError(Exception):
        pass

    wrapped = NewConnectionError(f"Failed to connect to http://user:{CANARY}@127.0.0.1:9", RuntimeError(CANARY))
    wrapped.__context__ = ConnectionRefusedError(111, "Connection refused")
    err = RuntimeError(f"GET http://127.0.0.1:9/?token={CANARY} failed", wrapped)
    assert network_reason(err) == "Connection refused"


def test_network_reason_without_an_os_error_is_only_the_class_name() -> None:
    class LocalProtocolError(Exception):
        pass

    err = LocalProtocolError(f"Illegal header value b'Bearer {CANARY}\\r'")
    err.__context__ = ValueError(CANARY)
    assert network_reason(err) == "LocalProtocolError"


def test_network_reason_survives_cycles() -> None:
    first, second = RuntimeError(CANARY), RuntimeError(CANARY)
    first.__context__, second.__context__ = second, first
    assert network_reason(first) == "RuntimeError"


@pytest.mark.parametrize("value", ["hvs.CAESIabc", "dp.st.dev.x-y_z", "AKIA EXAMPLE"])
def test_header_safe_values(value: str) -> None:
    assert is_header_safe(value)


@pytest.mark.parametrize("value", ["tok\n", "tok\r", " tok", "tok ", "t\tok", "t\x00ok", "tök", "tok\u20ac"])
def test_header_unsafe_values(value: str) -> None:
    assert not is_header_safe(value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, "denied"),
        (403, "denied"),
        (404, "error"),
        (429, "unreachable"),
        (500, "unreachable"),
        (501, "error"),
        (503, "unreachable"),
    ],
)
def test_every_backend_classifies_a_status_the_same_way(status: int, kind: str) -> None:
    assert status_kind(status, transient=is_transient_status(status)) == kind
