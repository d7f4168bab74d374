"""Small helpers for the loopback servers tests start: free ports and HTTP servers on a thread."""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(server: socketserver.BaseServer, name: str) -> Iterator[socketserver.BaseServer]:
    """Serve on a daemon thread for the duration of the block, then shut down and close.

    A client that hangs up mid-answer (a retry test, a timeout) is normal here, not worth a stack trace.
    """
    report = server.handle_error

    def handle_error(request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            report(request, client_address)

    server.handle_error = handle_error  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
