"""Small helpers for the loopback servers tests start: free ports and HTTP servers on a thread."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(server: socketserver.BaseServer, name: str) -> Iterator[socketserver.BaseServer]:
    """Serve on a daemon thread for the duration of the block, then shut down and close."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
