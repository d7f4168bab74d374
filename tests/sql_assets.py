"""What the SQL platform tests share: an asset as the loader would make it, running it, and reading a failure."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from pybruin.config.connections import Connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.platforms.run import Databases, run_sql_asset


def sql_asset(name: str, sql: str, asset_type: str, **materialization: str) -> Asset:
    file = Path(f"assets/{name}.sql")
    return Asset(
        name=name, type=asset_type, definition_file=file, executable_file=file, content=sql,
        materialization=materialization,
    )  # fmt: skip


def run(asset: Asset, connection: Connection, databases: Databases, schema_prefix: str = "") -> None:
    run_sql_asset(asset, connection, databases, rendered_sql=asset.content, schema_prefix=schema_prefix)


def failure(asset: Asset, connection: Connection, databases: Databases, *, never_shown: Iterable[str]) -> str:
    """The one-line error running `asset` fails with, which shows none of `never_shown` and hides its cause."""
    with pytest.raises(BruinError) as caught:
        run(asset, connection, databases)
    message = str(caught.value)
    assert "\n" not in message
    for secret in never_shown:
        assert secret not in message
    assert caught.value.__suppress_context__
    return message
