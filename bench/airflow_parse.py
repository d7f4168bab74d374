"""How long Airflow takes to parse the DAG file of a 1,000-asset pipeline built by `pybruin.airflow`.

Generates a pipeline of 1,000 assets (800 Python, 200 `duckdb.sql`; chains of ten, every tenth asset
depending on two earlier chains' heads; three tags; two secrets each), a DAG file of two lines, and measures
in the Airflow venv (`.venv-airflow`, built by `bash .ci/run`), each in a fresh process:

* the DAG file's own cost: `import pybruin.airflow` and `bruin_dag(...)`, with `airflow.sdk` imported first
  as it is in Airflow's DAG-file processor (what the file adds to parsing);
* Airflow's DAG-file processing path: a `DagBag` over the folder (import, DAG checks, 1,000 tasks), against
  the same `DagBag` over a DAG file with 1,000 plain `EmptyOperator`s and the same edges (Airflow's floor);
* the same for the Kubernetes mode (1,000 KubernetesPodOperators), and for the pure layout in pybruin's venv.

Airflow's budget is `dagbag_import_timeout` (30 s by default) per file. Medians of `--repeat` runs. Prints
the results and writes them to the `## airflow_parse.py` section of bench/README.md. Asserts nothing.

Usage: .venv/bin/python bench/airflow_parse.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_PYTHON = Path(os.environ.get("PYBRUIN_AIRFLOW_PYTHON") or REPO / ".venv-airflow" / "bin" / "python")
COUNT = 1000

MEASURE_FILE = """
import json, time
import airflow.sdk  # already imported in Airflow's DAG-file processor
started = time.perf_counter()
from pybruin.airflow import bruin_dag
imported = time.perf_counter()
dag = bruin_dag({pipeline!r}, **{options!r})
built = time.perf_counter()
print("RESULT " + json.dumps({{"import": imported - started, "build": built - imported, "tasks": len(dag.tasks)}}))
"""

MEASURE_DAGBAG = """
import json, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder={folder!r})
elapsed = time.perf_counter() - started
dag = next(iter(bag.dags.values()))
print("RESULT " + json.dumps({{"dagbag": elapsed, "tasks": len(dag.tasks), "errors": len(bag.import_errors)}}))
"""

PLAIN_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
with DAG(dag_id="plain", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
    tasks = [EmptyOperator(task_id=f"a{{i:04d}}") for i in range({count})]
    for i, task in enumerate(tasks):
        for up in {upstreams!r}.get(i, ()):
            tasks[up] >> task
"""


def upstreams(index: int) -> list[int]:
    if index % 10:
        return [index - 1]
    return [index - 10, index - 20] if index >= 20 else []


def make_project(root: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".bruin.yml").write_text("environments:\n  default:\n    connections: {}\n")
    pipeline = root / "big"
    (pipeline / "assets").mkdir(parents=True)
    (pipeline / "pipeline.yml").write_text("name: big\nschedule: daily\nstart_date: '2024-01-01'\n")
    for i in range(COUNT):
        name = f"a{i:04d}"
        depends = f"depends: [{', '.join(f'a{u:04d}' for u in upstreams(i))}]\n"
        tags = f"tags: [t{i % 3}]\n"
        if i % 5 == 4:
            text = f"/* @bruin\nname: {name}\ntype: duckdb.sql\n{depends}{tags}@bruin */\nselect {i} as n\n"
            (pipeline / "assets" / f"{name}.sql").write_text(text)
        else:
            secrets = "secrets: [{key: API_KEY}, {key: WAREHOUSE, inject_as: DB}]\n"
            text = f'"""@bruin\nname: {name}\n{depends}{tags}{secrets}@bruin"""\nprint({i})\n'
            (pipeline / "assets" / f"{name}.py").write_text(text)
    return pipeline


def run(python: Path, code: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, timeout=600)
    line = next((line for line in done.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return json.loads(line.removeprefix("RESULT "))


def median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not AIRFLOW_PYTHON.exists():
        raise SystemExit(f"no Airflow venv at {AIRFLOW_PYTHON}: run bash .ci/run first")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        pipeline = make_project(root / "project")
        home = root / "home"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRUIN_"))},
               "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "HOME": str(home)}  # fmt: skip
        folders = {}
        for name, options in (("local", {}), ("kubernetes", {"mode": "kubernetes", "image": "bruin:1"})):
            folder = root / f"dags-{name}"
            folder.mkdir()
            code = f"from pybruin.airflow import bruin_dag\ndag = bruin_dag({str(pipeline)!r}, **{options!r})\n"
            (folder / "bruin_dag.py").write_text(code)
            folders[name] = (folder, options)
        plain = root / "dags-plain"
        plain.mkdir()
        edges = {i: upstreams(i) for i in range(COUNT)}
        (plain / "plain_dag.py").write_text(PLAIN_DAG.format(count=COUNT, upstreams=edges))
        layout_code = ("import json, time; from pathlib import Path; t = time.perf_counter()\n"
                       "from pybruin.airflow.layout import build_layout, DagOptions\n"
                       f"layout = build_layout(Path({str(pipeline)!r}), DagOptions())\n"
                       "elapsed = time.perf_counter() - t\n"
                       "print('RESULT ' + json.dumps({'layout': elapsed, 'tasks': len(layout.tasks)}))")  # fmt: skip

        results: dict[str, float] = {}
        for name, (folder, options) in folders.items():
            own = [run(AIRFLOW_PYTHON, MEASURE_FILE.format(pipeline=str(pipeline), options=options), env)
                   for _ in range(args.repeat)]  # fmt: skip
            bags = [run(AIRFLOW_PYTHON, MEASURE_DAGBAG.format(folder=str(folder)), env) for _ in range(args.repeat)]
            assert all(sample["tasks"] == COUNT and sample["errors"] == 0 for sample in bags), bags
            results[f"{name} import"] = median(own, "import")
            results[f"{name} build"] = median(own, "build")
            results[f"{name} dagbag"] = median(bags, "dagbag")
        floor = [run(AIRFLOW_PYTHON, MEASURE_DAGBAG.format(folder=str(plain)), env) for _ in range(args.repeat)]
        results["plain dagbag"] = median(floor, "dagbag")
        layouts = [run(Path(sys.executable), layout_code, env) for _ in range(args.repeat)]
        results["layout"] = median(layouts, "layout")

    report = render(results, args.repeat)
    print(report)
    update_readme(report)


def render(results: dict[str, float], repeat: int) -> str:
    rows = [
        ("layout only (pybruin venv: read 1,000 asset files, plan, specs)", results["layout"]),
        ("DAG file, local mode: `import pybruin.airflow`", results["local import"]),
        ("DAG file, local mode: `bruin_dag(...)`", results["local build"]),
        ("DagBag over the DAG file, local mode", results["local dagbag"]),
        ("DagBag over the DAG file, Kubernetes mode (KubernetesPodOperators)", results["kubernetes dagbag"]),
        ("DagBag over 1,000 plain EmptyOperators, same edges (Airflow's floor)", results["plain dagbag"]),
    ]
    lines = ["| 1,000 assets | seconds |", "|---|---|", *(f"| {label} | {value:.2f} |" for label, value in rows)]
    ratio = results["local dagbag"] / results["plain dagbag"]
    summary = (f"Medians of {repeat} fresh processes, 1-minute load average {os.getloadavg()[0]:.1f} on "
               f"{os.cpu_count()} cores at the end. The local-mode DAG file parses in "
               f"{results['local dagbag']:.2f} s through a DagBag, {ratio:.1f}x Airflow's own floor for 1,000 "
               "tasks; the budget (`dagbag_import_timeout`) is 30 s.")  # fmt: skip
    return "\n".join([*lines, "", textwrap.fill(summary, 110)])


def update_readme(report: str) -> None:
    readme = REPO / "bench" / "README.md"
    text = readme.read_text()
    head = "## airflow_parse.py"
    intro = ("The DAG file of a 1,000-asset pipeline (800 Python, 200 `duckdb.sql`, chains of ten with fan-ins, "
             "two secrets per Python asset) as Airflow's DAG-file processor parses it.")  # fmt: skip
    body = f"{head}\n\n{textwrap.fill(intro, 110)}\n\n{report}\n"
    if head in text:
        start = text.index(head)
        end = text.find("\n## ", start + len(head))
        text = text[:start] + body + (text[end + 1 :] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    readme.write_text(text)


if __name__ == "__main__":
    main()
