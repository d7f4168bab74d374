"""SQL assets on BigQuery's REST API: the real google-cloud-bigquery client against the local-bigquery emulator.

The emulator authenticates nobody, so these tests show which credentials pybruin builds from each field and
that the client can sign requests with them, not that Google would accept them. Its SQL runs on DuckDB
(translated by sqlglot) and it cannot stop a running job (its cancel call answers but the job runs on), so a
cancel here shows that pybruin asks for it and stops waiting, not that BigQuery stops the job.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import sql_assets as shared
from fixtures.bigquery_emulator import PROJECT, BigQueryDataset, BigQueryEmulator, service_account_info
from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.platforms.run import Databases
from sql_assets import run


@pytest.fixture
def dataset(bigquery_dataset: Callable[[], BigQueryDataset]) -> BigQueryDataset:
    return bigquery_dataset()


def connection_to(name: str = "bq", **fields: object) -> Connection:
    """A google_cloud_platform connection on the emulator's project, with the test service account's key."""
    details = {"project_id": PROJECT, "service_account_json": json.dumps(service_account_info()), **fields}
    return build_connection("google_cloud_platform", {"name": name, **details}, base_dir=None, environ={})


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


def sql_asset(name: str, sql: str, **materialization: str) -> Asset:
    return shared.sql_asset(name, sql, "bq.sql", **materialization)


def failure(asset: Asset, connection: Connection, databases: Databases) -> str:
    return shared.failure(asset, connection, databases, never_shown=[service_account_info()["private_key"]])


def test_script_without_materialization_runs_as_one_job(dataset: BigQueryDataset, databases: Databases) -> None:
    script = f"""
        create table {dataset.name}.events (id int64, kind string);
        insert into {dataset.name}.events values (1, 'click'), (2, 'a;b');
        insert into {dataset.name}.events select id + 10, kind from {dataset.name}.events;
    """
    run(sql_asset(f"{dataset.name}.events", script), connection_to(), databases)

    assert dataset.rows(f"select id, kind from {dataset.name}.events") == [
        (1, "click"), (2, "a;b"), (11, "click"), (12, "a;b"),
    ]  # fmt: skip


def test_view_is_created_and_replaced(dataset: BigQueryDataset, databases: Databases) -> None:
    name = f"{dataset.name}.numbers"
    run(sql_asset(name, "select 1 as n union all select 2", type="view"), connection_to(), databases)
    run(sql_asset(name, "select 1 as n, 'x' as label;", type="view"), connection_to(), databases)

    assert dataset.rows(f"select n, label from {name}") == [(1, "x")]
    assert dataset.relations() == [(dataset.name, "numbers", "VIEW")]


def test_table_is_created_and_replaced(dataset: BigQueryDataset, databases: Databases) -> None:
    name = f"{dataset.name}.users"
    run(sql_asset(name, "select 1 as id, 'ann' as name", type="table"), connection_to(), databases)
    replacement = "select 0 as id, 0 as score union all select 1, 10 union all select 2, 20; -- done"
    run(sql_asset(name, replacement, type="table", strategy="create+replace"), connection_to(), databases)

    assert dataset.rows(f"select * from {name}") == [(0, 0), (1, 10), (2, 20)]
    assert dataset.relations() == [(dataset.name, "users", "BASE TABLE")]


def test_append_creates_then_inserts(dataset: BigQueryDataset, databases: Databases) -> None:
    asset = sql_asset(f"{dataset.name}.runs", "select 1 as run, 'ok' as status;", type="table", strategy="append")

    run(asset, connection_to(), databases)
    run(asset, connection_to(), databases)

    assert dataset.rows(f"select * from {dataset.name}.runs") == [(1, "ok"), (1, "ok")]


def test_missing_datasets_are_created_and_the_prefix_applies(dataset: BigQueryDataset, databases: Databases) -> None:
    marts = f"{dataset.name}_marts"
    run(sql_asset(f"{marts}.users", "select 1 as id", type="table"), connection_to(), databases, "dev_")
    run(sql_asset(f"{PROJECT}.{marts}.users", "select 2 as id", type="table"), connection_to(), databases)

    assert dataset.relations(f"dev_{marts}", marts) == [
        (f"dev_{marts}", "users", "BASE TABLE"), (marts, "users", "BASE TABLE"),
    ]  # fmt: skip
    assert dataset.rows(f"select id from `{PROJECT}`.dev_{marts}.users") == [(1,)]


def test_one_part_names_cannot_be_materialized(databases: Databases) -> None:
    message = failure(sql_asset("users", "select 1", type="table"), connection_to(), databases)
    assert message == (
        "asset 'users': the asset name must be dataset.table or project.dataset.table to materialize on BigQuery"
    )


def test_failed_build_keeps_the_old_table(dataset: BigQueryDataset, databases: Databases) -> None:
    name = f"{dataset.name}.orders"
    run(sql_asset(name, "select 1 as id, 'a' as code union all select 2, 'b'", type="table"), connection_to(),
        databases)  # fmt: skip

    message = failure(sql_asset(name, f"select 1 / 0 as id from {name}", type="table"), connection_to(), databases)

    assert message == f"asset '{name}': division by zero: 1 / 0"
    assert dataset.rows(f"select * from {name}") == [(1, "a"), (2, "b")]


@pytest.mark.parametrize("how", ["service_account_json", "service_account_file", "adc", "access_token"])
def test_every_kind_of_credentials_signs_in(
    how: str, dataset: BigQueryDataset, databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(service_account_info()))
    fields: dict[str, object] = {} if how == "service_account_json" else {"service_account_json": ""}
    if how == "service_account_file":
        fields["service_account_file"] = str(key_file)
    elif how == "adc":
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        fields["use_application_default_credentials"] = True
    elif how == "access_token":
        fields["access_token"] = "ya29.test-token"

    run(sql_asset(f"{dataset.name}.who", "select session_user() as who", type="table"), connection_to(**fields),
        databases)  # fmt: skip

    assert dataset.rows(f"select count(*) from {dataset.name}.who") == [(1,)]


def test_no_credentials_is_one_clear_line(databases: Databases) -> None:
    message = failure(sql_asset("d.t", "select 1"), connection_to(service_account_json=""), databases)
    assert message == (
        "asset 'd.t': google_cloud_platform connection 'bq' has no credentials: set service_account_json, "
        "service_account_file or access_token, or use_application_default_credentials: true"
    )


def test_a_malformed_service_account_names_the_field(databases: Databases) -> None:
    message = failure(sql_asset("d.t", "select 1"), connection_to(service_account_json='{"type": "x"}'), databases)
    assert message == "asset 'd.t': connection 'bq': the service_account_json is not a service account key"


def test_errors_naming_the_service_account_are_masked(dataset: BigQueryDataset, databases: Databases) -> None:
    email = service_account_info()["client_email"]

    message = failure(sql_asset(f"{dataset.name}.t", f"select cast('{email}' as int64) as x", type="table"),
                      connection_to(), databases)  # fmt: skip

    assert email not in message
    assert "****" in message


def test_the_hard_cost_limits_refuse_a_statement_before_it_runs(
    dataset: BigQueryDataset, databases: Databases, bigquery_emulator: BigQueryEmulator
) -> None:
    """The emulator estimates every query at 0 bytes, so only a limit below that (none is) could refuse one: this
    shows the dry run is made and a statement within the limits runs."""
    dry_runs = bigquery_emulator.requests_to("/jobs")
    bq = connection_to(max_billable_bytes=1000, max_query_cost=0.01)

    run(sql_asset(f"{dataset.name}.cheap", "select 1 as id", type="table"), bq, databases)

    assert dataset.rows(f"select id from {dataset.name}.cheap") == [(1,)]
    assert bigquery_emulator.requests_to("/jobs") >= dry_runs + 2  # the dry run, then the job


def test_sessions_share_one_client(dataset: BigQueryDataset, databases: Databases) -> None:
    bq = connection_to()
    with databases.session(bq) as first:
        client = first._handle.client
    with databases.session(bq) as second:
        assert second._handle.client is client


def test_cancel_stops_waiting_for_the_job_and_asks_for_its_cancellation(
    dataset: BigQueryDataset, databases: Databases, bigquery_emulator: BigQueryEmulator
) -> None:
    name = f"{dataset.name}.t"
    run(sql_asset(name, "select 1 as id", type="table"), connection_to(), databases)
    cancels = bigquery_emulator.requests_to("/cancel")
    failures: list[str] = []
    slow = "select count(*) as id from unnest(generate_array(1, 3000000)) a"

    def rebuild() -> None:  # a plain query: the emulator ends this CTAS soon after accepting it, the query runs on
        try:
            run(sql_asset(name, slow), connection_to(), databases)
        except BruinError as exc:
            failures.append(str(exc))

    worker = threading.Thread(target=rebuild)
    worker.start()
    while not any(session._running and session._handle.job for session in list(databases._sessions)):
        time.sleep(0.01)
    databases.cancel_all()
    worker.join()

    assert failures == [f"asset '{name}': cancelled"]
    assert bigquery_emulator.requests_to("/cancel") == cancels + 1
