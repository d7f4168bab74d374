"""A loopback HTTP/1.1 proxy that delays every request, to make a local server feel remote.

Secrets stores run on loopback in the benchmarks, where a read costs well under a
millisecond and concurrency cannot show. Putting this proxy in front adds a fixed
latency to each request (the time a request spends on a real network), keeps client
connections alive the way a real endpoint does, and records what it forwarded so a
benchmark can count backend reads at the wire rather than trust the client's own count.

It runs as its own process, so its threads never compete with the measured client for
the GIL: ``python bench/latency_proxy.py --upstream URL --port N [--latency 0.05]``.
``GET /__latency_proxy__/forwarded`` returns what was forwarded as JSON (a list of
``{"method", "path", "target"}``, ``target`` being AWS's ``X-Amz-Target``), and
``POST /__latency_proxy__/reset`` forgets it; neither is delayed or forwarded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CONTROL_PREFIX = "/__latency_proxy__/"
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"})


class LatencyProxy(ThreadingHTTPServer):
    """Forwards every request to ``upstream`` after ``latency`` seconds, one thread per client connection."""

    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops bursts of concurrent connects (1 s SYN retry)

    def __init__(self, port: int, upstream: str, latency: float) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.upstream = urlsplit(upstream)
        self.latency = latency
        self.forwarded: list[dict[str, str]] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: LatencyProxy
    protocol_version = "HTTP/1.1"  # keep client connections alive, as a real endpoint would
    # Headers and body are separate writes; with Nagle on, the body of a response on a reused
    # connection waits for the client's delayed ACK (40 ms), which no real endpoint adds.
    disable_nagle_algorithm = True
    upstream_connection: http.client.HTTPConnection | None = None

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith(CONTROL_PREFIX):
            self._control()
            return
        with self.server.lock:
            self.server.forwarded.append(
                {"method": self.command, "path": self.path, "target": self.headers.get("X-Amz-Target", "")}
            )
        time.sleep(self.server.latency)
        if self.upstream_connection is None:
            upstream = self.server.upstream
            self.upstream_connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        self.upstream_connection.request(self.command, self.path, body=body, headers=headers)
        response = self.upstream_connection.getresponse()
        relayed = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        self._answer(response.status, relayed, response.read())

    def _control(self) -> None:
        with self.server.lock:
            if self.path == f"{CONTROL_PREFIX}reset":
                self.server.forwarded.clear()
            payload = json.dumps(self.server.forwarded).encode()
        self._answer(200, [("Content-Type", "application/json")], payload)

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

    def finish(self) -> None:
        super().finish()
        if self.upstream_connection is not None:
            self.upstream_connection.close()

    def log_message(self, format: str, *args: object) -> None:
        """Keep benchmark output clean."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="base URL to forward to, e.g. http://127.0.0.1:8200")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.050, help="seconds added to each request")
    args = parser.parse_args()
    LatencyProxy(args.port, args.upstream, args.latency).serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
