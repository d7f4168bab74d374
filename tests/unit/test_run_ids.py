"""Run ids: upstream's timestamp, then the microseconds and a random part, so a project's run history sorts in
the order its runs started (its files are named by run id) and concurrent runs never share a name."""

from __future__ import annotations

import re
import time

import pytest

from pybruin.errors import BruinError
from pybruin.run.context import new_run_id

RUN_ID = re.compile(r"\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}_\d{6}[0-9a-f]{4}")


def test_ids_sort_in_the_order_the_runs_started_within_a_second_too() -> None:
    made = []
    for _ in range(30):
        made.append(new_run_id({}))
        time.sleep(0.001)
    assert all(RUN_ID.fullmatch(run_id) for run_id in made)
    assert sorted(made) == made
    assert len({run_id[:19] for run_id in made}) < len(made), "some of them started within the same second"


def test_ids_made_at_once_differ() -> None:
    made = [new_run_id({}) for _ in range(2000)]
    assert len(set(made)) == len(made)


def test_a_given_id_is_used_as_given_and_must_not_name_a_path() -> None:
    assert new_run_id({"BRUIN_RUN_ID": "manual__2024-03-05T00:00:00+00:00"}) == "manual__2024-03-05T00:00:00+00:00"
    for bad in ("../x", ".hidden", "a/b"):
        with pytest.raises(BruinError, match="invalid BRUIN_RUN_ID"):
            new_run_id({"BRUIN_RUN_ID": bad})
    assert RUN_ID.fullmatch(new_run_id({"BRUIN_RUN_ID": ""})), "an empty id is no id"
