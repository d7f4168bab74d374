"""The one retry policy of the HTTP stores (Vault, Doppler): how long to wait between attempts, and when to stop.

* Waits grow exponentially from ``backoff_min`` up to ``backoff_max``, with "equal jitter" (uniform in
  ``[d/2, d]``): clients that failed together spread out, yet each still waits at least half its backoff.
* A 429 or 503 answer's ``Retry-After`` (delay-seconds or an HTTP-date) replaces the backoff exactly:
  the server knows best when it can answer again. Other statuses' ``Retry-After`` means nothing (RFC 9110).
* No single wait is longer than ``wait_max``, at most ``max_attempts`` attempts are made, and with a
  ``deadline`` a wait that would end at or after it is not started: the request gives up at once
  instead of sleeping into a failure that is already certain.

The policy only counts and waits; each store decides what is worth retrying and what to report.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from datetime import UTC

from pybruin.records import Record, field

#: The answers whose ``Retry-After`` says when to come back.
RETRY_AFTER_STATUSES = frozenset({429, 503})

#: Backoff stops doubling after this many retries: the cap has long been reached, and floats would overflow.
_MAX_DOUBLINGS = 62

_random = random.SystemRandom()


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds a ``Retry-After`` value asks for, given the wall-clock time ``now``; ``None`` if it is neither form.

    Delay-seconds are a non-negative integer; an HTTP-date already past asks for no wait at all.
    """
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (ValueError, OverflowError):  # not a date, or numbers no datetime holds
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class RetryPolicy(Record):
    """How one HTTP request is retried: attempts, waits and the overall deadline, in seconds."""

    #: Attempts in all, the first one included; 1 means no retry.
    max_attempts: int
    #: The wait before the first retry, before jitter; it doubles for each later retry ...
    backoff_min: float
    #: ... up to this.
    backoff_max: float
    #: No single wait, ``Retry-After`` included, is longer than this.
    wait_max: float = math.inf
    #: Seconds for all attempts and waits together, from :meth:`start`; ``None``: only attempts are counted.
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.backoff_min <= self.backoff_max:
            raise ValueError("backoff_min must be positive and at most backoff_max")
        if self.wait_max < 0 or (self.deadline is not None and self.deadline <= 0):
            raise ValueError("wait_max must not be negative and deadline must be positive")

    def backoff(self, retry: int) -> float:
        """The jittered wait before retry number ``retry`` (1 is the first retry)."""
        full = min(self.backoff_min * 2.0 ** min(retry - 1, _MAX_DOUBLINGS), self.backoff_max)
        return _random.uniform(full / 2, full)

    def wait(self, retry: int, status: int | None = None, retry_after: str | None = None, *, now: float) -> float:
        """The wait before retry number ``retry`` after an answer with ``status`` and ``retry_after``.

        ``now`` is the wall-clock time an HTTP-date is measured from. A ``Retry-After`` that is
        present but unusable falls back to the backoff.
        """
        requested = None
        if status in RETRY_AFTER_STATUSES and retry_after:
            requested = parse_retry_after(retry_after, now)
        return min(self.backoff(retry) if requested is None else requested, self.wait_max)

    def start(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> Retrying:
        """Begin one request's first attempt; the deadline counts from now."""
        return Retrying(self, clock=clock, sleep=sleep, wall_clock=wall_clock)


class Retrying(Record, frozen=False):
    """One request's attempts under a policy: which attempt this is, the time left, and the waits between them."""

    policy: RetryPolicy
    clock: Callable[[], float] = field(repr=False)
    sleep: Callable[[float], None] = field(repr=False)
    wall_clock: Callable[[], float] = field(repr=False)
    #: The attempt being made, from 1.
    attempt: int = field(default=1, init=False)
    #: Set when :meth:`pause` gave up because the wait would not end before the deadline.
    out_of_time: bool = field(default=False, init=False)
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        deadline = self.policy.deadline
        self._deadline = math.inf if deadline is None else self.clock() + deadline

    def remaining(self) -> float:
        """Seconds left before the deadline (infinite without one); the most an attempt may take."""
        return self._deadline - self.clock()

    def pause(self, status: int | None = None, retry_after: str | None = None) -> bool:
        """Wait before the next attempt, after a failure with ``status`` (``None``: no answer) and ``retry_after``.

        Returns ``False``, without waiting, when there is no next attempt: this one was the last,
        or the wait would end at or after the deadline (then :attr:`out_of_time` is set).
        """
        if self.attempt >= self.policy.max_attempts:
            return False
        delay = self.policy.wait(self.attempt, status, retry_after, now=self.wall_clock())
        if self.clock() + delay >= self._deadline:
            self.out_of_time = True
            return False
        self.sleep(delay)
        self.attempt += 1
        return True
