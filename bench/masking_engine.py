"""Throughput of MaskingStream against a plain pass-through copy.

Streams 200 MB of log-like output in 64 KiB chunks into a file, once unchanged and once through a
MaskingStream with 100 registered secrets (a few of which appear in the output), and prints both
throughputs (best of a few runs) and their ratio. Run: ``.venv/bin/python bench/masking_engine.py [megabytes]``.
"""

from __future__ import annotations

import base64
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

from pybruin.masking import Masker

CHUNK = 64 * 1024
POOL_CHUNKS = 128  # 8 MiB of distinct output, cycled
SECRETS = 100


def make_secrets(rng: random.Random) -> list[str]:
    """Secrets shaped like real ones: API keys, passwords, access keys, hex tokens, base64 blobs."""
    alnum = string.ascii_letters + string.digits
    makers: list[Callable[[], str]] = [
        lambda: "sk_live_" + "".join(rng.choices(alnum, k=24)),
        lambda: "".join(rng.choices(alnum + "!@#$%^&*+=/", k=rng.randint(12, 24))),
        lambda: "AKIA" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16)),
        lambda: "".join(rng.choices("0123456789abcdef", k=32)),
        lambda: base64.b64encode(rng.randbytes(30)).decode(),
    ]
    return [makers[index % len(makers)]() for index in range(SECRETS)]


def make_pool(rng: random.Random, secrets: list[str]) -> bytes:
    """Log-like lines; about one line in 5000 prints a secret."""
    words = [
        "INFO",
        "WARN",
        "DEBUG",
        "rows",
        "loaded",
        "table",
        "orders",
        "customers",
        "SELECT",
        "FROM",
        "WHERE",
        "JOIN",
        "id",
        "=",
        "AND",
        "status",
        "processing",
        "batch",
        "finished",
        "started",
        "connection",
        "pool",
        "query",
        "took",
        "ms",
        "bytes",
        "retry",
        "upstream",
        "https://api.example.com/v1/items?page=",
        "/var/lib/data/part-",
        '{"event":',
        '"sync",',
        '"count":',
        "",
    ]
    lines = []
    size = 0
    while size < POOL_CHUNKS * CHUNK:
        line = f"2026-11-22T02:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z "
        line += " ".join(rng.choices(words, k=rng.randint(5, 14))) + f" {rng.randint(0, 10**6)}"
        if rng.random() < 1 / 5000:
            line += f" token={rng.choice(secrets)}"
        lines.append(line + "\n")
        size += len(line) + 1
    return "".join(lines).encode()[: POOL_CHUNKS * CHUNK]


def chunks(pool: bytes, total: int) -> Iterator[bytes]:
    for index in range(total // CHUNK):
        start = (index % POOL_CHUNKS) * CHUNK
        yield pool[start : start + CHUNK]


def timed(pool: bytes, total: int, sink: BinaryIO, masker: Masker | None) -> float:
    sink.seek(0)
    sink.truncate()
    started = time.perf_counter()
    if masker is None:
        for chunk in chunks(pool, total):
            sink.write(chunk)
    else:
        stream = masker.stream()
        for chunk in chunks(pool, total):
            sink.write(stream.feed(chunk))
        sink.write(stream.flush())
    sink.flush()
    return time.perf_counter() - started


def main() -> None:
    total = int(sys.argv[1] if len(sys.argv) > 1 else 200) * 1_000_000 // CHUNK * CHUNK
    rng = random.Random(20261122)
    secrets = make_secrets(rng)
    pool = make_pool(rng, secrets)
    started = time.perf_counter()
    masker = Masker(secrets)
    masker.mask_bytes(b"")  # compiles the matcher
    build = time.perf_counter() - started
    with tempfile.TemporaryFile() as sink:
        plain = min(timed(pool, total, sink, None) for _ in range(3))
        masked = min(timed(pool, total, sink, masker) for _ in range(2))
    megabytes = total / 1e6
    print(f"{SECRETS} secrets, {len(masker._forms)} forms, matcher built in {build * 1000:.0f} ms")
    print(f"pass-through: {megabytes / plain:8.0f} MB/s ({plain:.2f} s for {megabytes:.0f} MB)")
    print(f"masking:      {megabytes / masked:8.0f} MB/s ({masked:.2f} s)")
    print(f"ratio masked/pass-through: {masked / plain:.2f} (overhead {(masked / plain - 1) * 100:.0f}%)")


if __name__ == "__main__":
    main()
