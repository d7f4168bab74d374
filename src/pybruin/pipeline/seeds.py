"""Seed assets (`duckdb.seed`, `pg.seed`, ...): a CSV file next to the asset loaded into the table named
after it, replaced on every run. Upstream's rules (`assets-seed-validation`) with upstream's texts, and
where the file is.
"""

from __future__ import annotations

from pathlib import Path

from pybruin.pipeline.model import Asset, Column
from pybruin.records import Record

#: The `file_type` values upstream accepts; pybruin loads CSV.
FILE_TYPES = ("csv", "parquet", "pq", "json", "jsonl", "ndjson", "avro")


class Seed(Record):
    """What a seed loads: the CSV file and the declared columns (their types are applied unless
    `enforce_schema: false`)."""

    path: Path
    columns: tuple[Column, ...]
    enforce_schema: bool = True


def is_seed(asset: Asset) -> bool:
    return asset.type.endswith(".seed")


def seed_of(asset: Asset) -> Seed:
    """The seed an asset loads; call after `seed_problems` found nothing."""
    return Seed(
        path=Path(asset.definition_file).parent / str(asset.parameters.get("path")),
        columns=tuple(asset.columns),
        enforce_schema=str(asset.parameters.get("enforce_schema", "true")).lower() != "false",
    )


def seed_problems(asset: Asset) -> list[str]:
    """Upstream's seed rules, then what pybruin does not load yet (URLs, files other than CSV)."""
    problems = []
    if asset.materialization.get("type"):
        problems.append("Materialization is not allowed on a seed asset")
    path = str(asset.parameters.get("path") or "")
    if not path:
        return [*problems, "Seed file path is required"]
    raw_type = str(asset.parameters.get("file_type") or "")
    file_type = raw_type.strip().lower()
    if file_type and file_type not in FILE_TYPES:
        return [*problems, f'Unsupported seed file_type "{raw_type}" (supported: {", ".join(FILE_TYPES)})']
    if path.lower().startswith(("http://", "https://")):
        return [*problems, "a seed file at a URL is not supported by pybruin yet"]
    extension = Path(path).suffix.lower().lstrip(".")
    kind = file_type or (extension if extension in FILE_TYPES else "csv")
    if kind != "csv":
        return [*problems, f"{kind} seed files are not supported by pybruin yet"]
    file = Path(asset.definition_file).parent / path
    if not file.is_file():
        return [*problems, "Seed file does not exist or cannot be found"]
    import csv

    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            headers = next(csv.reader(handle), None)
    except OSError:
        return [*problems, "Failed to open seed file"]
    except (csv.Error, UnicodeDecodeError):
        headers = None
    if not headers:
        return [*problems, "CSV file cannot be parsed"]
    present = {header.lower() for header in headers}
    problems += [
        f"Column '{column.name}' is defined in the asset but does not exist in the CSV"
        for column in asset.columns
        if column.name.lower() not in present
    ]
    return problems
