"""Finding pipelines and loading one: `pipeline.yml`, its asset files, and each asset merged with the defaults."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pybruin.errors import BruinError
from pybruin.pipeline.checks import column_check_id, custom_check_id
from pybruin.pipeline.headers import (
    YAML_ASSET_SUFFIXES,
    AssetSource,
    Definition,
    HeaderFields,
    parse_mapping,
    read_asset,
    read_fields,
    read_text,
)
from pybruin.pipeline.hooks import inherited_hooks
from pybruin.pipeline.model import (
    Asset,
    Column,
    ColumnCheck,
    CustomCheck,
    IntervalModifiers,
    Pipeline,
    SecretMapping,
    TimeModifier,
)
from pybruin.records import replace

PIPELINE_FILE_NAMES = ("pipeline.yml", "pipeline.yaml")
ASSET_DIRECTORIES = ("tasks", "assets")
# Matched case-sensitively, as Bruin does: `.R` files are not assets.
ASSET_SUFFIXES = (".sql", ".py", ".r", *YAML_ASSET_SUFFIXES)
SKIP_DIRECTORIES = frozenset(
    {
        ".git",
        ".github",
        ".vscode",
        "node_modules",
        "dist",
        "build",
        "target",
        "vendor",
        ".venv",
        ".env",
        "env",
        "venv",
        "dbt_packages",
    }
)

_T = TypeVar("_T")
_Named = TypeVar("_Named", Column, ColumnCheck, CustomCheck)


def load_pipeline(path: Path, *, with_assets: bool = True) -> Pipeline:
    """The pipeline in directory `path` (or defined by the pipeline file `path`), assets in file-walk order.

    `with_assets=False` reads `pipeline.yml` only (for commands about one asset file, see `load_asset`).
    """
    definition_file = _pipeline_file(Path(os.path.abspath(path)))
    text = read_text(definition_file)
    spec = Definition(parse_mapping(text, definition_file, noun="a pipeline definition") or {}, definition_file, text)
    defaults = read_fields(spec.child(spec.mapping("default"), "default"))
    return Pipeline(
        name=spec.text("name") or spec.text("id") or "",
        directory=definition_file.parent,
        definition_file=definition_file,
        default_connections=_default_connections(spec),
        variables=_variables(spec),
        commit=spec.text("commit") or "",
        pristine_env=bool(spec.flag("pristine_env")),
        default_timeout=defaults.timeout,
        assets=_load_assets(definition_file.parent, defaults) if with_assets else [],
        definition=spec.data,
    )


def load_asset(file: Path, pipeline: Pipeline) -> Asset | None:
    """The asset `file` defines, merged with `pipeline`'s defaults; None when the file is not an asset."""
    if not file.name.endswith(ASSET_SUFFIXES) or not file.is_file():
        return None
    source = read_asset(file)
    if source is None:
        return None
    spec = Definition(pipeline.definition, pipeline.definition_file)
    defaults = read_fields(spec.child(spec.mapping("default"), "default"))
    roots = [pipeline.directory / name for name in ASSET_DIRECTORIES]
    root = next((folder for folder in roots if folder in file.parents), pipeline.directory)
    return _build_asset(source, root, defaults)


def find_pipeline_dirs(root: Path) -> list[Path]:
    """Every directory under `root` holding a pipeline file, in walk order."""
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise BruinError(f"'{root}' is not a directory")
    return list(dict.fromkeys(file.parent for file in _walk(root, PIPELINE_FILE_NAMES.__contains__)))


def pipeline_dir_for_asset(asset_file: Path) -> Path:
    """The nearest directory above `asset_file` that holds a pipeline file."""
    for folder in Path(os.path.abspath(asset_file)).parents:
        if any((folder / name).is_file() for name in PIPELINE_FILE_NAMES):
            return folder
    raise BruinError(
        "cannot find a pipeline the given task belongs to. Are you sure this task is in an actual pipeline?"
    )


def _pipeline_file(path: Path) -> Path:
    if path.name in PIPELINE_FILE_NAMES and not path.is_dir():
        return path
    for name in PIPELINE_FILE_NAMES:
        if (path / name).is_file():
            return path / name
    raise BruinError(f"no pipeline file found in '{path}'. Supported files: [{' '.join(PIPELINE_FILE_NAMES)}]")


def _default_connections(spec: Definition) -> dict[str, str]:
    connections = spec.child(spec.mapping("default_connections"), "default_connections")
    return {str(platform): connections.text(platform) or "" for platform in connections.data}


def _variables(spec: Definition) -> dict[str, dict]:
    variables = spec.mapping("variables")
    for name, schema in variables.items():
        if not isinstance(schema, dict):
            raise spec.error(f'invalid variable "{name}": must be a mapping (a JSON schema)', "variables", name)
        if "default" not in schema:
            raise spec.error(f'invalid variable "{name}": must have a default value', "variables", name)
    return {str(name): schema for name, schema in variables.items()}


def _load_assets(directory: Path, defaults: HeaderFields) -> list[Asset]:
    assets: list[Asset] = []
    files_by_name: dict[str, Path] = {}
    for root in (directory / name for name in ASSET_DIRECTORIES):
        if not root.is_dir():
            continue
        for file in _walk(root, lambda name: name.endswith(ASSET_SUFFIXES)):
            source = read_asset(file)
            if source is None:
                continue
            asset = _build_asset(source, root, defaults)
            first = files_by_name.setdefault(asset.name, file)
            if first != file:
                raise BruinError(f"{file}: asset name '{asset.name}' is already used by '{first}'")
            assets.append(asset)
    return assets


def _walk(folder: Path, wanted: Callable[[str], bool]) -> Iterator[Path]:
    """Files under `folder` whose name is `wanted`: depth first, lexical order per directory, like Go's Walk."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        raise BruinError(f"{folder}: cannot list the directory: {exc.strerror or type(exc).__name__}") from None
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in SKIP_DIRECTORIES:
                yield from _walk(Path(entry.path), wanted)
        elif wanted(entry.name) and _is_file(entry):
            yield Path(entry.path)


def _is_file(entry: os.DirEntry[str]) -> bool:
    """Whether the entry is a file (following symlinks); a symlink loop or an unreadable link is an error."""
    try:
        return entry.is_file()
    except OSError as exc:
        raise BruinError(f"{entry.path}: cannot read the file: {exc.strerror or type(exc).__name__}") from None


def _build_asset(source: AssetSource, root: Path, defaults: HeaderFields) -> Asset:
    """Apply the pipeline's `default:` block (reference §3.2) and the connection-as-secret rule (§3.3)."""
    own = source.fields
    connection = own.connection or defaults.connection or None
    # Unlike upstream, a default secret without `inject_as` is injected under its key, as documented.
    secrets = _append_missing(own.secrets, defaults.secrets, key=lambda secret: secret.key)
    if connection and all(secret.key != connection for secret in secrets):
        secrets.append(SecretMapping(key=connection, inject_as=connection))
    dependencies = _append_missing(own.depends, defaults.depends, key=lambda dep: (dep.kind, dep.value))
    name = own.name or _name_from_path(source.definition_file, root)
    asset_type = own.type or _inferred_type(source.executable_file) or defaults.type or ""
    return Asset(
        name=name,
        type=asset_type,
        definition_file=source.definition_file,
        executable_file=source.executable_file,
        content=source.content,
        depends=[dep.value for dep in dependencies if dep.kind == "asset" and dep.mode == "full"],
        secrets=secrets,
        connection=connection,
        enabled=own.enabled is not False,
        image=own.image or defaults.image or None,
        materialization=own.materialization | {
            key: value for key, value in defaults.materialization.items() if own.materialization.get(key) in (None, "")
        },
        parameters=own.parameters | {k: v for k, v in defaults.parameters.items() if k not in own.parameters},
        header=source.header,
        other_depends=[dep for dep in dependencies if not (dep.kind == "asset" and dep.mode == "full")],
        description=own.description or defaults.description or None,
        owner=own.owner or defaults.owner or None,
        instance=own.instance or defaults.instance or None,
        start_date=own.start_date or defaults.start_date or None,
        tags=_append_missing(own.tags, defaults.tags, key=str),
        columns=[
            _with_check_ids(column, name) for column in _merge_by_name(own.columns, defaults.columns, _filled_column)
        ],
        custom_checks=[
            replace(check, id=custom_check_id(name, check.name))
            for check in _merge_by_name(own.custom_checks, defaults.custom_checks, _filled_custom_check)
        ],
        timeout=own.timeout or defaults.timeout or None,
        hooks=inherited_hooks(asset_type, own.hooks, defaults.hooks),
        interval_modifiers=IntervalModifiers(
            _set_or(own.interval_modifiers.start, defaults.interval_modifiers.start),
            _set_or(own.interval_modifiers.end, defaults.interval_modifiers.end),
        ),
        refresh_restricted=defaults.refresh_restricted if own.refresh_restricted is None else own.refresh_restricted,
    )


def _merge_by_name(
    own: Iterable[_Named], defaults: Iterable[_Named], fill: Callable[[_Named, _Named], _Named]
) -> list[_Named]:
    """Upstream's defaults for columns, their checks and custom checks: a default fills the empty fields of
    the item with the same name (case-insensitively); one the asset lacks is appended."""
    merged = list(own)
    for default in defaults:
        index = _index_by_name(merged, default.name)
        if index is None:
            merged.append(default)
        else:
            merged[index] = fill(merged[index], default)
    return merged


def _filled_column(column: Column, default: Column) -> Column:
    """Every field the asset's column leaves empty comes from the default column; checks are merged by name."""
    filled = {
        key: getattr(default, key)
        for key, value in vars(column).items()
        if key != "checks" and value in ("", None, False) and getattr(default, key) not in ("", None, False)
    }
    return replace(column, **filled, checks=tuple(_merge_by_name(column.checks, default.checks, _filled_check)))


def _filled_check(check: ColumnCheck, default: ColumnCheck) -> ColumnCheck:
    return replace(
        check,
        value=default.value if check.value is None else check.value,
        blocking=default.blocking if check.blocking is None else check.blocking,
        description=check.description or default.description,
    )


def _filled_custom_check(check: CustomCheck, default: CustomCheck) -> CustomCheck:
    return replace(
        check,
        description=check.description or default.description,
        value=check.value or default.value,
        count=default.count if check.count is None else check.count,
        blocking=default.blocking if check.blocking is None else check.blocking,
        query=check.query or default.query,
    )


def _index_by_name(items: list[_Named], name: str) -> int | None:
    return next((index for index, item in enumerate(items) if item.name.lower() == name.lower()), None)


def _with_check_ids(column: Column, asset_name: str) -> Column:
    """Ids from the asset's final name (upstream hashes the header's `name`, empty for a nameless asset)."""
    checks = tuple(replace(check, id=column_check_id(asset_name, column.name, check.name)) for check in column.checks)
    return replace(column, checks=checks)


def _append_missing(own: list[_T], defaults: Iterable[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    """`own` followed by the defaults whose key `own` lacks (defaults are not de-duplicated among themselves)."""
    present = {key(item) for item in own}
    return [*own, *(item for item in defaults if key(item) not in present)]


def _set_or(own: TimeModifier, default: TimeModifier) -> TimeModifier:
    return own if own != TimeModifier() else default


def _inferred_type(executable: Path) -> str | None:
    return {".py": "python", ".r": "r"}.get(executable.suffix)


def _name_from_path(file: Path, root: Path) -> str:
    """`assets/raw/users.py` → `raw.users`; `assets/x/y.asset.yml` → `x.y`."""
    relative = file.relative_to(root).as_posix()
    for suffix in (".asset.yml", ".asset.yaml"):
        if relative.endswith(suffix):
            return relative.removesuffix(suffix).replace("/", ".")
    return os.path.splitext(relative)[0].replace("/", ".")
