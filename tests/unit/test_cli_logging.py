"""Library log records and Python warnings are masked like every other output."""

from __future__ import annotations

import logging
import warnings

import pytest

from pybruin.cli.app import route_logging
from pybruin.masking import Masker

CANARY = "canary-logging-5b9e1f"


@pytest.fixture
def masked_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    route_logging(Masker([CANARY]))
    yield
    logging.captureWarnings(False)
    root.handlers, root.level = saved[0], saved[1]


def test_a_library_warning_is_masked(masked_logging, capsys):
    logging.getLogger("botocore.credentials").warning("refreshing token %s", CANARY)
    err = capsys.readouterr().err
    assert CANARY not in err
    assert "WARNING botocore.credentials: refreshing token ****" in err


def test_python_warnings_are_masked(masked_logging, capsys):
    warnings.warn(f"insecure request to https://u:{CANARY}@example.com", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert CANARY not in err and "****" in err


def test_debug_records_stay_hidden_by_default(masked_logging, capsys):
    logging.getLogger("hvac").debug("noise")
    assert capsys.readouterr().err == ""
