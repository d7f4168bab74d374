"""What the HTTP backends share about failed requests: how to describe them without leaking.

HTTP clients and their sockets phrase errors with whatever they were handling: a header
they refused (a token), a status line they could not parse (the server's reply). These
helpers say what went wrong from the status code or the operating system's reason alone.
"""

from __future__ import annotations

from http import HTTPStatus

from pybruin.secrets.base import BackendErrorKind


def http_status_text(status: int) -> str:
    """``HTTP status 403 (Forbidden)``: the code and its standard phrase, never the server's words."""
    try:
        return f"HTTP status {status} ({HTTPStatus(status).phrase})"
    except ValueError:
        return f"HTTP status {status}"


def is_transient_status(status: int) -> bool:
    """429 and 5xx other than 501: the store is there but cannot answer right now, so a retry may help."""
    return status == 429 or (500 <= status <= 599 and status != 501)


def status_kind(status: int, *, transient: bool) -> BackendErrorKind:
    """How a chain treats a failed answer: a refusal is ``denied``; an outage, ``unreachable``; else ``error``."""
    if status in (401, 403):
        return "denied"
    return "unreachable" if transient else "error"


def network_reason(err: BaseException) -> str:
    """The operating system's reason for a failed request (``Connection refused``), else the error's class name.

    The reason is looked for along the whole chain of wrapped errors; nothing else of
    their text is used, as it may quote URLs, headers or the server's reply.
    """
    pending: list[BaseException] = [err]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(
            link
            for link in (getattr(current, "reason", None), current.__cause__, current.__context__)
            if isinstance(link, BaseException)
        )
    return type(err).__name__


def is_header_safe(value: str) -> bool:
    """Whether ``value`` can be sent as an HTTP header value unchanged.

    A client given anything else (a trailing newline from a token file, a stray space)
    fails with an error quoting the value, so backends check their tokens up front.
    """
    return value.isascii() and value.isprintable() and value == value.strip()
