"""`bruin connections test`: open a connection and run ``SELECT 1``, for the types pybruin has a driver for.

The SQL platforms check their connections through the same handles a run uses (`Platform.ping`),
so a test fails the way a run would and its errors are scrubbed the same way. SQLite runs no
assets in pybruin, so it is no platform: its check, which needs only the standard library, lives
here. Every other type reports that it cannot be tested rather than guessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.platforms import platform_for_connection

if TYPE_CHECKING:
    from pybruin.config.connections import Connection


def ping(connection: Connection) -> bool:
    """Open ``connection`` and run a trivial query; False when its type cannot be tested.

    Raises `BruinError` naming the connection (never a credential) when the test fails.
    """
    platform = platform_for_connection(connection.type_key)
    if platform is not None:
        check = platform.ping
    elif connection.type_key == "sqlite":
        check = _sqlite
    else:
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
