"""The HTTP stores' retry policy: backoff with equal jitter, Retry-After in both forms, caps, attempts, deadline."""

from __future__ import annotations

import email.utils
import math

import pytest

from pybruin.secrets.retrying import Retrying, RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0  # a wall-clock time, for HTTP-dates
POLICY = RetryPolicy(max_attempts=4, backoff_min=0.2, backoff_max=2.0, wait_max=30.0)


class FakeTime:
    """A monotonic clock that only sleeping moves, and a record of the sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def start(policy: RetryPolicy, fake: FakeTime) -> Retrying:
    return policy.start(clock=fake.clock, sleep=fake.sleep, wall_clock=lambda: NOW)


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


# --- Retry-After ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "seconds"), [("3", 3.0), (" 7 ", 7.0), ("0", 0.0), ("86400", 86400.0)])
def test_retry_after_in_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_retry_after_as_an_http_date() -> None:
    assert parse_retry_after(http_date(NOW + 12), NOW) == 12.0
    assert parse_retry_after(http_date(NOW - 3600), NOW) == 0.0, "a date already past asks for no wait"
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0
    zoneless = email.utils.formatdate(NOW + 5).replace("+0000", "-0000")
    assert parse_retry_after(zoneless, NOW) == 5.0, "HTTP-dates are GMT even when the zone is unknown"


@pytest.mark.parametrize(
    "value",
    [
        "soon",
        "",
        "-1",
        "3.5",
        "1e3",
        "²",  # a digit to str.isdigit, not to HTTP
        "Wed, 21 Oct 99999 07:28:00 GMT",
        "Wed, 21 Oct 2015 99999999999999999999:28:00 GMT",
        "Wed, 21 Oct 2015 07:28:00 +9999999999999",
    ],
)
def test_anything_else_is_not_a_retry_after(value: str) -> None:
    assert parse_retry_after(value, NOW) is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_replaces_the_backoff_exactly_on_429_and_503(status: int) -> None:
    assert POLICY.wait(1, status, "3", now=NOW) == 3.0
    assert POLICY.wait(4, status, http_date(NOW + 9), now=NOW) == 9.0
    assert POLICY.wait(2, status, "0", now=NOW) == 0.0


@pytest.mark.parametrize(("status", "retry_after"), [(500, "3"), (502, "3"), (None, "3"), (429, "soon"), (503, "")])
def test_otherwise_the_backoff_applies(status: int | None, retry_after: str) -> None:
    for _ in range(20):
        assert 0.2 <= POLICY.wait(2, status, retry_after, now=NOW) <= 0.4


# --- backoff and caps --------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_with_equal_jitter() -> None:
    for retry, full in [(1, 0.2), (2, 0.4), (3, 0.8), (4, 1.6), (5, 2.0), (12, 2.0)]:
        waits = [POLICY.backoff(retry) for _ in range(200)]
        assert all(full / 2 <= wait <= full for wait in waits)
        assert min(waits) < full * 0.6 and max(waits) > full * 0.9, "spread over the whole [d/2, d] range"
        assert len(set(waits)) > 1


def test_backoff_survives_absurd_retry_numbers() -> None:
    assert 1.0 <= POLICY.backoff(10_000) <= 2.0


def test_no_single_wait_exceeds_wait_max() -> None:
    assert POLICY.wait(1, 429, "86400", now=NOW) == 30.0
    assert POLICY.wait(1, 503, http_date(NOW + 86400), now=NOW) == 30.0
    capped = RetryPolicy(max_attempts=3, backoff_min=4.0, backoff_max=8.0, wait_max=1.0)
    assert capped.wait(3, None, None, now=NOW) == 1.0


def test_without_wait_max_retry_after_is_obeyed_however_long() -> None:
    policy = RetryPolicy(max_attempts=2, backoff_min=0.2, backoff_max=2.0)
    assert policy.wait_max == math.inf
    assert policy.wait(1, 429, "3600", now=NOW) == 3600.0


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0, "backoff_min": 0.2, "backoff_max": 2.0},
        {"max_attempts": 1, "backoff_min": 0.0, "backoff_max": 2.0},
        {"max_attempts": 1, "backoff_min": 3.0, "backoff_max": 2.0},
        {"max_attempts": 1, "backoff_min": 0.2, "backoff_max": 2.0, "wait_max": -1.0},
        {"max_attempts": 1, "backoff_min": 0.2, "backoff_max": 2.0, "deadline": 0.0},
    ],
)
def test_nonsense_policies_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**settings)  # type: ignore[arg-type]


# --- attempts and deadline ---------------------------------------------------------------------------


def test_attempts_are_counted_and_the_last_one_is_not_followed_by_a_wait() -> None:
    fake = FakeTime()
    retrying = start(POLICY, fake)
    assert retrying.attempt == 1 and retrying.remaining() == math.inf
    assert [retrying.pause(429, "1") for _ in range(4)] == [True, True, True, False]
    assert retrying.attempt == 4
    assert fake.sleeps == [1.0, 1.0, 1.0]
    assert not retrying.out_of_time, "out of attempts is not out of time"


def test_one_attempt_means_no_retry() -> None:
    fake = FakeTime()
    retrying = start(RetryPolicy(max_attempts=1, backoff_min=0.2, backoff_max=2.0, deadline=10.0), fake)
    assert not retrying.pause()
    assert fake.sleeps == [] and not retrying.out_of_time


def test_a_wait_that_would_reach_the_deadline_is_not_started() -> None:
    fake = FakeTime()
    retrying = start(RetryPolicy(max_attempts=10, backoff_min=0.2, backoff_max=2.0, deadline=5.0), fake)
    assert retrying.remaining() == 5.0
    assert retrying.pause(503, "3")
    assert retrying.remaining() == 2.0
    assert not retrying.pause(503, "2"), "ending exactly at the deadline is too late"
    assert retrying.out_of_time
    assert fake.sleeps == [3.0], "the refused wait was not slept"
    assert retrying.attempt == 2


def test_time_spent_in_attempts_counts_against_the_deadline() -> None:
    fake = FakeTime()
    retrying = start(RetryPolicy(max_attempts=10, backoff_min=0.2, backoff_max=0.4, deadline=2.0), fake)
    fake.now += 1.95  # a slow attempt
    assert retrying.remaining() == pytest.approx(0.05)
    assert not retrying.pause(), "the backoff (at least 0.1s) cannot end before the deadline"
    assert retrying.out_of_time and fake.sleeps == []


def test_the_deadline_counts_from_start() -> None:
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=3, backoff_min=0.2, backoff_max=2.0, deadline=4.0)
    fake.now += 50
    assert start(policy, fake).remaining() == 4.0
