"""Reading a store's numeric settings as upstream Bruin writes them: Go durations and non-negative integers.

Settings use Go's syntax (``500ms``, ``1h30m``) so they stay interchangeable with upstream Bruin, and a bad
one is named in upstream's words (``BRUIN_VAULT_TIMEOUT must be a positive duration``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pybruin.durations import SECOND, format_go_duration, parse_go_duration
from pybruin.records import Record
from pybruin.secrets.base import BackendError
from pybruin.secrets.retrying import RetryPolicy

_INTEGER = re.compile(r"[-+]?\d+")


def positive_duration(environ: Mapping[str, str], variable: str, default: float) -> float:
    """Setting ``variable`` as seconds (``default`` when unset or empty); it must be a positive Go duration."""
    text = environ.get(variable, "")
    if not text:
        return default
    try:
        seconds = parse_go_duration(text)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise BackendError(f"{variable} must be a positive duration")
    return seconds


def non_negative_int(environ: Mapping[str, str], variable: str, default: int) -> int:
    """Setting ``variable`` as an integer (``default`` when unset or empty); it must not be negative."""
    text = environ.get(variable, "")
    if not text:
        return default
    if not _INTEGER.fullmatch(text) or int(text) < 0:
        raise BackendError(f"{variable} must be a non-negative integer")
    return int(text)


def no_answer_within(seconds: float, variable: str) -> str:
    """``no answer within 30s (BRUIN_VAULT_TIMEOUT)``: how a read that ran out of time is reported."""
    return f"no answer within {format_go_duration(round(seconds * SECOND))} ({variable})"


class RetrySettings(Record):
    """How hard an HTTP store tries: one deadline for all attempts, retries after the first, backoff bounds.

    Read from ``<prefix>TIMEOUT``, ``<prefix>RETRY_WAIT_MIN``, ``<prefix>RETRY_WAIT_MAX`` and
    ``<prefix>MAX_RETRIES``, in that order, as upstream's Vault settings are.
    """

    timeout: float = 30.0
    max_retries: int = 3
    retry_wait_min: float = 0.2
    retry_wait_max: float = 2.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str], prefix: str) -> RetrySettings:
        timeout = positive_duration(environ, f"{prefix}TIMEOUT", cls.timeout)
        wait_min = positive_duration(environ, f"{prefix}RETRY_WAIT_MIN", cls.retry_wait_min)
        wait_max = positive_duration(environ, f"{prefix}RETRY_WAIT_MAX", cls.retry_wait_max)
        max_retries = non_negative_int(environ, f"{prefix}MAX_RETRIES", cls.max_retries)
        if wait_max < wait_min:
            raise BackendError(f"{prefix}RETRY_WAIT_MAX must be greater than or equal to {prefix}RETRY_WAIT_MIN")
        return cls(timeout, max_retries, wait_min, wait_max)

    @property
    def policy(self) -> RetryPolicy:
        """``max_retries`` after the first attempt, backoff between the waits, all within ``timeout``."""
        return RetryPolicy(
            max_attempts=self.max_retries + 1,
            backoff_min=self.retry_wait_min,
            backoff_max=self.retry_wait_max,
            deadline=self.timeout,
        )
