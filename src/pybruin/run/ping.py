"""Checking that a connection works: open it and run ``SELECT 1``, for the types pybruin has a driver for.

DuckDB, PostgreSQL and Redshift go through the same handles a run uses (:mod:`pybruin.run.databases`),
so a test fails the way a run would and its errors are sanitised the same way. SQLite needs only
the standard library. Every other type reports that it cannot be tested rather than guessing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.run.databases import Databases

if TYPE_CHECKING:
    from pybruin.config.connections import Connection


def ping(connection: Connection) -> bool:
    """Open ``connection`` and run a trivial query; False when its type cannot be tested.

    Raises :class:`BruinError` naming the connection (never a credential) when the test fails.
    """
    check = _CHECKS.get(connection.type_key)
    if check is None:
        return False
    try:
        check(connection)
    except BruinError as exc:
        raise BruinError(f"connection '{connection.name}' failed the test: {exc}") from None
    except ImportError as exc:
        package = (exc.name or "").partition(".")[0]
        raise BruinError(
            f"connection '{connection.name}' cannot be tested: the Python package '{package}' is not installed"
        ) from None
    return True


def _select_one(connection: Connection) -> None:
    databases = Databases()
    try:
        with databases.session(connection) as session:
            session.query("SELECT 1")
    finally:
        databases.close()


def _duckdb(connection: Connection) -> None:
    # Opening a missing file would create it: a test must not leave a new database behind.
    path = connection.path
    if path and path != ":memory:" and not os.path.exists(path):
        raise BruinError(f"database file '{path}' does not exist")
    _select_one(connection)


def _sqlite(connection: Connection) -> None:
    import sqlite3
    from urllib.parse import quote

    path = connection.path or ":memory:"
    target = "file::memory:" if path == ":memory:" else f"file:{quote(path)}?mode=ro"
    try:
        database = sqlite3.connect(target, uri=True)
        try:
            database.execute("SELECT 1").fetchall()
        finally:
            database.close()
    except sqlite3.Error as exc:
        raise BruinError(f"could not open sqlite database '{path}': {exc}") from None


_CHECKS: dict[str, Callable[[Connection], None]] = {
    "duckdb": _duckdb,
    "postgres": _select_one,
    "redshift": _select_one,
    "sqlite": _sqlite,
}
