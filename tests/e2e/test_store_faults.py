"""Faults between pybruin and a real store: OpenBao and moto_server behind the loopback fault proxy, which
trickles bodies, stalls, resets connections and answers 429/503. A fault fails only the assets that need the
store, within the store's one wall-clock deadline, with a message that says what happened; every other asset
runs, and starts without waiting for the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BRUIN, EMPTY_CONFIG

VALUE = "fault-canary-value-8e21"
NEEDS = (
    '"""@bruin\nname: needs_store\nsecrets: [{key: slowkey}]\n@bruin"""\n'
    'import os\nprint("got", os.environ["slowkey"])\n'
)
FREE = '"""@bruin\nname: free\n@bruin"""\nopen("free.done", "w").write("1")\n'
AFTER = '"""@bruin\nname: after_free\ndepends: [free]\n@bruin"""\nprint("after free")\n'


@pytest.fixture
def pipeline(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a_needs_store.py", NEEDS)
    project.write("p/assets/b_free.py", FREE)
    project.write("p/assets/c_after.py", AFTER)
    return project


@pytest.fixture(params=["vault", "aws"])
def store(request, fault_proxy):
    """(name, env, proxy) for a store holding `slowkey`, reached through a fault proxy; deadlines of 2s."""
    generic = {"type": "generic", "details": {"value": VALUE}}
    if request.param == "vault":
        server = request.getfixturevalue("vault_server")
        path = f"faults-{uuid.uuid4().hex[:8]}"
        server.put(f"{path}/slowkey", generic)
        proxy = fault_proxy(server.address)
        env = server.bruin_env(path, BRUIN_VAULT_HOST=proxy.url, BRUIN_VAULT_TIMEOUT="2s",
                               BRUIN_VAULT_RETRY_WAIT_MIN="10ms", BRUIN_VAULT_RETRY_WAIT_MAX="50ms")  # fmt: skip
    else:
        moto = request.getfixturevalue("moto")
        moto.client("eu-west-1").create_secret(Name="slowkey", SecretString=json.dumps(generic))
        proxy = fault_proxy(moto.url)
        env = moto.bruin_env("eu-west-1", AWS_ENDPOINT_URL_SECRETS_MANAGER=proxy.url, BRUIN_AWS_TIMEOUT="2s")
    return request.param, env, proxy


LABEL = {"vault": "Vault", "aws": "AWS Secrets Manager"}
VARIABLE = {"vault": "BRUIN_VAULT_TIMEOUT", "aws": "BRUIN_AWS_TIMEOUT"}


def statuses(result) -> dict[str, tuple[str, str | None]]:
    return {a["name"]: (a["status"], a["error"]) for a in json.loads(result.stdout)["assets"]}


def assert_only_the_store_assets_failed(result, error: str) -> None:
    assert result.returncode == 1, result.output
    assert statuses(result) == {
        "after_free": ("succeeded", None),
        "free": ("succeeded", None),
        "needs_store": ("failed", error),
    }
    assert VALUE not in result.output


@pytest.mark.parametrize("mode", ["trickle", "stall"])
def test_a_store_that_trickles_or_stalls_fails_within_its_deadline(pipeline, store, mode):
    name, env, proxy = store
    proxy.fail_next(None, mode=mode, pause=0.4, times=10)
    result = pipeline.bruin("--secrets-backend", name, "run", "-o", "json", "p", env=env, timeout=120)
    expected = f"failed to read secret 'slowkey' from {LABEL[name]}: no answer within 2s ({VARIABLE[name]})"
    assert_only_the_store_assets_failed(result, expected)


def test_a_store_that_resets_connections_is_unreachable(pipeline, store):
    name, env, proxy = store
    proxy.fail_next(500, mode="reset", times=10)
    result = pipeline.bruin("--secrets-backend", name, "run", "-o", "json", "p", env=env, timeout=120)
    error = statuses(result)["needs_store"][1]
    assert error.startswith(f"failed to read secret 'slowkey' from {LABEL[name]}: "), error
    assert ("Connection reset by peer" in error) if name == "vault" else ("could not reach" in error)
    assert_only_the_store_assets_failed(result, error)


@pytest.mark.parametrize(("status", "retry_after"), [(429, "0"), (503, "1"), (503, None)])
def test_throttling_and_outages_are_retried(pipeline, store, status, retry_after):
    name, env, proxy = store
    body = json.dumps({"__type": "ThrottlingException"}) if name == "aws" and status == 429 else ""
    headers = {"Retry-After": retry_after} if retry_after else {}
    if name == "aws":
        headers["Content-Type"] = "application/x-amz-json-1.1"
    times = 1 if retry_after == "1" else 2
    env = env | {VARIABLE[name]: "30s"}  # botocore's own backoff between throttled attempts is up to seconds
    proxy.fail_next(status, times=times, headers=headers, body=body)
    result = pipeline.bruin("--secrets-backend", name, "run", "-o", "json", "p", env=env, timeout=120)
    assert result.returncode == 0, result.output
    assert "got ****" in result.stderr
    assert proxy.count() >= times + 1, "the failed answers were retried"


def test_an_invalid_body_is_reported_as_invalid(pipeline, store):
    name, env, proxy = store
    content = {"Content-Type": "application/x-amz-json-1.1"} if name == "aws" else {"Content-Type": "application/json"}
    proxy.fail_next(200, body='{"data": {"data": {"type": "gen', headers=content)
    result = pipeline.bruin("--secrets-backend", name, "run", "-o", "json", "p", env=env, timeout=120)
    error = statuses(result)["needs_store"][1]
    if name == "vault":
        invalid = "Vault returned an invalid response (not a JSON object)"
        assert error == f"failed to read secret 'slowkey' from Vault: {invalid}"
    else:
        assert error.startswith("failed to read secret 'slowkey' from AWS Secrets Manager: "), error
        assert "empty" not in error and "could not reach" not in error
    assert_only_the_store_assets_failed(result, error)


def test_assets_that_need_nothing_from_a_slow_store_do_not_wait_for_it(pipeline, store):
    """The read of `slowkey` is held until the asset that needs nothing has run (or a minute passed)."""
    name, env, proxy = store
    gate = threading.Event()
    proxy.fail_next(None, gate=gate)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")} | env
    bruin = subprocess.Popen(
        [*BRUIN, "--secrets-backend", name, "run", "--workers", "1", "-o", "json", "p"],
        cwd=pipeline.root,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(1200):
            if (pipeline.root / "free.done").exists() or bruin.poll() is not None:
                break
            time.sleep(0.05)
        ran_while_held = (pipeline.root / "free.done").exists()
        gate.set()
        out, err = bruin.communicate(timeout=120)
    finally:
        gate.set()
        if bruin.poll() is None:
            bruin.kill()
            bruin.wait()
    assert ran_while_held, "the asset that needs nothing waited for the store"
    assert bruin.returncode == 0, out + err
    assert "got ****" in err
