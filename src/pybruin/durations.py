"""Go's duration strings (`500ms`, `1h30m`, `1.5s`), read and written exactly as Go's `time` package does.

Bruin's settings (`BRUIN_VAULT_TIMEOUT`) and asset `timeout`s are Go durations, and its messages print them
with `Duration.String()` (`2s`, `1m30s`, `1h30m0s`), so pybruin reads and writes the same text.
"""

from __future__ import annotations

import re

# Patterns as text: `re` compiles (and caches) them when a duration is first read, which most runs never do.
_DURATION = r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+"
_PART = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_UNIT_NANOSECONDS = {
    "ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9,
}  # fmt: skip
_MAX = 2**63 - 1
SECOND = 10**9


def go_duration_nanoseconds(text: str) -> int:
    """The nanoseconds in a Go duration; ``ValueError`` for anything Go's `time.ParseDuration` refuses.

    A number without a unit is refused, except ``0``.
    """
    if text.lstrip("+-") == "0":
        return 0
    if not re.fullmatch(_DURATION, text):
        raise ValueError(f"invalid duration {text!r}")
    from decimal import Decimal  # exact fractions (`1.1s`); only when a duration is read

    total = sum(int(Decimal(amount) * _UNIT_NANOSECONDS[unit]) for amount, unit in re.findall(_PART, text))
    if total > _MAX:
        raise ValueError(f"invalid duration {text!r}: out of range")
    return -total if text.startswith("-") else total


def parse_go_duration(text: str) -> float:
    """The seconds in a Go duration (see :func:`go_duration_nanoseconds`)."""
    return go_duration_nanoseconds(text) / SECOND


def format_go_duration(nanoseconds: int) -> str:
    """What Go's `Duration.String()` prints: `0s`, `1.5µs`, `500ms`, `2s`, `1m30s`, `1h30m0s`."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    size = abs(nanoseconds)
    if size < 1_000:
        return f"{sign}{size}ns"
    if size < SECOND:
        unit, scale = ("µs", 1_000) if size < 1_000_000 else ("ms", 1_000_000)
        return sign + _with_fraction(size, scale) + unit
    text = _with_fraction(size % (60 * SECOND), SECOND) + "s"
    minutes = size // (60 * SECOND)
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes >= 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def _with_fraction(value: int, scale: int) -> str:
    """value / scale in decimal, without trailing zeros or a bare point."""
    whole, fraction = divmod(value, scale)
    digits = len(str(scale)) - 1
    return f"{whole}.{fraction:0{digits}d}".rstrip("0") if fraction else str(whole)
