"""What upstream Bruin does that pybruin does not do yet: the one table of it, and how an asset is checked.

Nothing a user writes may be parsed and then skipped: a pipeline whose checks fail must not report success
because the checks never ran. Each entry names the key as users write it and says how to find it in an asset
(its own header, or the pipeline's `default:` block that every asset inherits). `bruin validate` reports
every entry an asset hits as an error; `bruin run` fails the asset before anything starts, so its downstream
assets are `upstream_failed`. Issues that implement a feature remove its entry.

Pure metadata (owner, description, tags, domains, meta, columns' descriptions and types) is accepted, as are
the keys upstream's own CLI runner does not act on either (`retries`, `notifications`, `rerun_cooldown`, `tier`,
`routing`, `uri`, `metadata`, `connections`): they belong to Bruin Cloud's scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pybruin.pipeline.materialization import materialization_problems
from pybruin.pipeline.model import Asset, Pipeline
from pybruin.pipeline.needs import PROCESS_TYPES
from pybruin.pipeline.seeds import is_seed, seed_problems
from pybruin.records import Record

#: Asset types pybruin runs besides processes and the SQL types of the platforms it has.
NO_OP_TYPES = frozenset({"empty"})


class NearbyFiles:
    """Which files an asset's folder sees, walking up to the git root, each walk done once: one instance
    serves every asset of a build, and a pipeline's assets mostly share a few folders."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, Path], bool] = {}

    def nearest(self, name: str, folder: Path) -> bool:
        """Whether `name` exists in `folder` or a folder above it, up to the git root."""
        key = (name, folder)
        if key not in self._found:
            self._found[key] = _nearest(name, folder)
        return self._found[key]


class Unsupported(Record):
    """One feature pybruin does not implement yet: its key as written, and whether an asset uses it."""

    key: str
    used_by: Callable[[Asset, Pipeline, NearbyFiles], bool]


def _declared(key: str) -> Callable[[Asset, Pipeline, NearbyFiles], bool]:
    """The asset's header or the pipeline's `default:` block sets `key` to something."""
    return lambda asset, pipeline, _files: bool(asset.header.get(key)) or bool(_defaults(pipeline).get(key))


def _sensor(asset: Asset, _pipeline: Pipeline, _files: NearbyFiles) -> bool:
    return ".sensor." in f"{asset.type}."


def _renv(asset: Asset, _pipeline: Pipeline, files: NearbyFiles) -> bool:
    return asset.type == "r" and files.nearest("renv.lock", asset.executable_file.parent)


def _metadata_push(_asset: Asset, pipeline: Pipeline, _files: NearbyFiles) -> bool:
    push = pipeline.definition.get("metadata_push")
    return isinstance(push, dict) and any(push.values())


def _variants(_asset: Asset, pipeline: Pipeline, _files: NearbyFiles) -> bool:
    return bool(pipeline.definition.get("variants"))


def _clustered_warehouse_table(asset: Asset, _pipeline: Pipeline, _files: NearbyFiles) -> bool:
    """BigQuery and Snowflake build tables with these (DuckDB and PostgreSQL ignore them, as upstream does)."""
    mat = asset.materialization
    return asset.type in ("bq.sql", "sf.sql") and bool(mat.get("partition_by") or mat.get("cluster_by"))


def _warehouse_collation(asset: Asset, _pipeline: Pipeline, _files: NearbyFiles) -> bool:
    """A `ddl` column `collation` on BigQuery or Snowflake: neither stand-in pybruin is tested on (the BigQuery
    emulator, fakesnow) parses their COLLATE clause, so that SQL is not shipped untested."""
    ddl = str(asset.materialization.get("strategy") or "").lower() == "ddl"
    return asset.type in ("bq.sql", "sf.sql") and ddl and any(column.collation for column in asset.columns)


#: Everything pybruin does not do yet. A test enumerates it; later issues shrink it.
UNSUPPORTED: tuple[Unsupported, ...] = (
    Unsupported("unit_tests", _declared("unit_tests")),
    Unsupported("extends", _declared("extends")),
    Unsupported("renv.lock of an R asset", _renv),
    Unsupported("sensor assets (type: *.sensor.*)", _sensor),
    Unsupported("metadata_push in pipeline.yml", _metadata_push),
    Unsupported("variants in pipeline.yml", _variants),
    Unsupported("materialization partition_by / cluster_by of a BigQuery or Snowflake table",
                _clustered_warehouse_table),
    Unsupported("collation of a ddl column of a BigQuery or Snowflake table", _warehouse_collation),
)


def unsupported_reasons(
    asset: Asset, pipeline: Pipeline, sql_types: frozenset[str], files: NearbyFiles | None = None
) -> list[str]:
    """Why pybruin cannot run `asset` as upstream would, one line per reason; empty when it can.

    `sql_types` are the asset types pybruin's platforms run (SQL and seed types). Each line names the asset's
    file and the key. Upstream's rules for materializations, seeds and hooks are reported here too, so an
    asset that breaks one fails alone, before anything runs. Callers checking many assets pass one
    `NearbyFiles`, so each folder is walked once.
    """
    files = files or NearbyFiles()
    where = _relative(asset.definition_file, pipeline.directory)
    reasons = [f"{entry.key} in {where} is not supported by pybruin yet" for entry in UNSUPPORTED
               if entry.used_by(asset, pipeline, files)]  # fmt: skip
    runnable = PROCESS_TYPES | NO_OP_TYPES | sql_types
    if asset.type and asset.type not in runnable and not _sensor(asset, pipeline, files):
        reasons.append(f"asset type '{asset.type}' in {where} is not supported by pybruin yet")
    elif is_seed(asset):
        reasons.extend(f"{problem} in {where}" for problem in seed_problems(asset))
    elif asset.type in sql_types:
        reasons.extend(f"{problem} in {where}" for problem in materialization_problems(asset))
    reasons.extend(f"{problem} in {where}" for problem in _hook_problems(asset))
    return reasons


def _hook_problems(asset: Asset) -> Iterator[str]:
    hooks = asset.hooks
    if asset.type in PROCESS_TYPES and (hooks.pre or hooks.post or hooks.applicable_types):
        kind = "Python" if asset.type == "python" else "R"
        yield (f"Hooks are currently supported only for SQL assets. Hooks defined on {kind} assets are ignored "
               "during execution.")  # fmt: skip


def _defaults(pipeline: Pipeline) -> dict:
    defaults = pipeline.definition.get("default")
    return defaults if isinstance(defaults, dict) else {}


def _relative(path: Path, start: Path) -> str:
    try:
        return path.relative_to(start).as_posix()
    except ValueError:
        return str(path)


def _nearest(name: str, folder: Path) -> bool:
    """Whether `name` exists in `folder` or a folder above it, up to the git root."""
    for candidate in (folder, *folder.parents):
        if (candidate / name).is_file():
            return True
        if (candidate / ".git").exists():
            return False
    return False
