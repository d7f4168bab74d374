"""`ping`: which connection types can be tested, and how failures read (PostgreSQL: tests/e2e)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from pybruin.config.connections import build_connection
from pybruin.errors import BruinError
from pybruin.platforms.ping import ping


def connection(type_key: str, **fields: object):
    return build_connection(type_key, {"name": "conn", **fields}, base_dir=None, environ={})


def test_duckdb_file_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    duckdb.connect(str(path)).close()
    assert ping(connection("duckdb", path=str(path))) is True
    assert ping(connection("duckdb", path=":memory:")) is True


def test_missing_duckdb_file_fails_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(BruinError) as caught:
        ping(connection("duckdb", path=str(path)))
    assert str(caught.value) == f"connection 'conn' failed the test: database file '{path}' does not exist"
    assert not path.exists()


def test_sqlite_file_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "data.sqlite"
    sqlite3.connect(path).close()
    assert ping(connection("sqlite", path=str(path))) is True
    missing = tmp_path / "missing.sqlite"
    with pytest.raises(BruinError) as caught:
        ping(connection("sqlite", path=str(missing)))
    assert str(caught.value) == (
        f"connection 'conn' failed the test: could not open sqlite database '{missing}': unable to open database file"
    )
    assert not missing.exists()


@pytest.mark.parametrize(
    ("type_key", "fields"),
    [("generic", {"value": "v"}), ("mssql", {"host": "h"}), ("chess", {"players": ["p"]})],
)
def test_types_without_a_check_are_not_tested(type_key: str, fields: dict) -> None:
    assert ping(connection(type_key, **fields)) is False
