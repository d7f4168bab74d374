"""The templates `bruin init` creates, named as upstream names them; every file in them is pybruin's own.

Each is a folder beside this module holding the pipeline's files, and a `Template` entry saying in which
order they are written and which connections the project's `.bruin.yml` gets. Only templates that
`bruin run` can run straight away, on this machine alone, are shipped.
"""

from __future__ import annotations

from pybruin.records import Record
from pathlib import Path
from types import MappingProxyType

FOLDER = Path(__file__).parent
_DUCKDB = (("duckdb-default", "duckdb", MappingProxyType({"path": "duckdb.db"})),)


class Template(Record):
    #: Paths relative to the template folder, in the order they are written.
    files: tuple[str, ...]
    #: (name, type key, fields) of the connections `.bruin.yml` needs; none means no `.bruin.yml`.
    connections: tuple[tuple[str, str, MappingProxyType], ...] = ()

    def text(self, name: str, relative: str) -> str:
        return (FOLDER / name / relative).read_text(encoding="utf-8")


TEMPLATES = MappingProxyType(
    {
        "default": Template(
            ("pipeline.yml", "assets/example.sql", "assets/numbers_summary.sql", "assets/hello.py"),
            (*_DUCKDB, ("GREETING_API_KEY", "generic", MappingProxyType({"value": "${GREETING_API_KEY}"}))),
        ),
        "duckdb": Template(("README.md", "pipeline.yml", "assets/raw_orders.sql", "assets/daily_revenue.sql"), _DUCKDB),
        "duckdb-lineage": Template(
            (
                "README.md",
                "pipeline.yml",
                *(f"assets/{name}.sql" for name in ("country", "people", "users", "per_country")),
            ),
            _DUCKDB,
        ),
        "empty": Template(("README.md", "pipeline.yml", "assets/placeholder")),
        "python": Template(("README.md", "pipeline.yml", "assets/hello.py", "assets/goodbye.py"), _DUCKDB),
        "r": Template(("README.md", "pipeline.yml", "assets/analysis.r"), _DUCKDB),
    }
)

#: The folder a template is created in when none is given (upstream's names).
DEFAULT_FOLDERS = MappingProxyType({"default": "bruin-pipeline"})
