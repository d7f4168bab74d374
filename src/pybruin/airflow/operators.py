"""The Airflow operators of a pybruin DAG: one task runs one plan task in the worker.

Local mode runs `bruin airflow-task SPEC` as a subprocess of the Airflow worker, so the secrets it resolves
live in that child only; its output (pybruin's masked output, then the run's manifest) becomes the task
log line by line, and its result (the task's name and status) the task's XCom. Kubernetes mode runs the
same command as a pod (`kubernetes.py`). This module imports Airflow; `layout.py` decides what it builds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

#: Airflow's own configuration, connections and variables: the worker's, never an asset's business
#: (`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` and `AIRFLOW__CORE__FERNET_KEY` are credentials).
WITHHELD_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "_AIRFLOW")
#: How long a stopped task's process may take to end (it stops its own assets) before it is killed.
STOP_GRACE_SECONDS = 30


def worker_environment(environ: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    """The task process's environment: the worker's, less Airflow's own configuration, plus the DAG's
    settings. The store configuration stays: pybruin reads it and withholds it from assets."""
    kept = {name: value for name, value in environ.items() if not name.startswith(WITHHELD_PREFIXES)}
    return {**kept, **settings}


class BruinTaskOperator(BaseOperator):
    """One plan task of a pybruin pipeline, run by `bruin airflow-task` in a subprocess of the worker."""

    template_fields = ("spec",)
    template_fields_renderers = {"spec": "json"}
    ui_color = "#e8f1ff"

    def __init__(self, *, spec: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.env = dict(env or {})
        self._process: subprocess.Popen[bytes] | None = None

    def execute(self, context: Any) -> dict[str, str]:
        with tempfile.TemporaryDirectory(prefix="pybruin-task-") as scratch:
            result_file = Path(scratch) / "result.json"
            command = [sys.executable, "-m", "pybruin", "airflow-task", "--result", str(result_file), self.spec]
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=worker_environment(os.environ, self.env),
                start_new_session=True,
            )
            assert self._process.stdout is not None
            for line in self._process.stdout:
                self.log.info("%s", line.decode("utf-8", errors="replace").rstrip("\r\n"))
            code = self._process.wait()
            outcome = _outcome(result_file, self.task_id)
        if code != 0:
            raise AirflowException(f"bruin task {outcome['task']} {outcome['status']} (exit code {code})")
        return outcome

    def on_kill(self) -> None:
        """Stop the task's process group (pybruin and its asset processes): SIGTERM, then SIGKILL."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _outcome(result_file: Path, task_id: str) -> dict[str, str]:
    """The task's name and status as the worker wrote them, and nothing else."""
    try:
        written = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"task": task_id, "status": "failed"}
    return {"task": str(written.get("task", task_id)), "status": str(written.get("status", "failed"))}
