"""Reading what an asset file declares about itself.

Three forms exist: a YAML block between `@bruin` marker lines at the top of a SQL, Python or R file; the
legacy one-line rows (`-- @bruin.name: x`); and whole-file YAML assets (`*.asset.yml`). All three become one
header mapping that `read_fields` turns into typed values. Every problem is a `BruinError` of the form
`<file>[:<line>]: <what>`, which names keys and echoes no value but a `depends` mode or a `run` path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pybruin.config.yamlfiles import BoundedAliases, yaml_error
from pybruin.durations import go_duration_nanoseconds
from pybruin.errors import BruinError
from pybruin.pipeline.intervals import IntervalError, parse_modifier
from pybruin.pipeline.model import (
    CheckValue,
    Column,
    ColumnCheck,
    CustomCheck,
    Dependency,
    ForeignKey,
    Hooks,
    IntervalModifiers,
    SecretMapping,
    TimeModifier,
)
from pybruin.pyyaml import yaml
from pybruin.records import Record, field

YAML_ASSET_SUFFIXES = ("asset.yml", "asset.yaml", "task.yml", "task.yaml")

# Opening token → closing token. 0 to 3 spaces may separate either token from `@bruin`, and a block may open
# with one style and close with another.
_TOKENS = {"/*": "*/", '"""': '"""', '"': '"', "'": "'"}
# Each opening marker line, mapped to the closing line suggested when it is never closed.
_OPENERS = {f"{opener}{' ' * gap}@bruin": f"@bruin{closer}" for opener, closer in _TOKENS.items() for gap in range(4)}
_CLOSERS = frozenset(f"@bruin{' ' * gap}{closer}" for closer in _TOKENS.values() for gap in range(4))

_LINE_COMMENTS = {".sql": "--", ".py": "#", ".r": "#"}
_LEGACY_PREFIX = "@bruin."
_LEGACY_TEXTS = frozenset({"name", "description", "type", "connection", "image", "instance", "start_date", "timeout"})
_LEGACY_FLAGS = frozenset({"enabled", "refresh_restricted", "full_refresh_restricted"})
_LEGACY_INTEGERS = frozenset({"retries", "rerun_cooldown"})
_LEGACY_SECTIONS = frozenset({"parameters", "materialization", "routing"})
# Go's strconv.ParseBool, which the legacy rows and string-valued `enabled` follow.
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
_SECRET_EXAMPLE = "'{key: NAME, inject_as: ENV_VAR}'"
_COLUMN_EXAMPLE = "'{name: id, checks: [{name: not_null}]}'"
_CHECK_EXAMPLE = "'{name: not_null}'"
_CUSTOM_CHECK_EXAMPLE = "'{name: NAME, query: SELECT ...}'"

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(BoundedAliases, _BaseLoader):
    """Reads scalars the way Bruin's YAML 1.2 parser does: dates stay strings, only true/false are booleans."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL_TAG, "tag:yaml.org,2002:timestamp")]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_text(path: Path) -> str:
    """The file's text with universal newlines, so line numbers are the ones an editor shows."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BruinError(f"{path}: cannot read the file: it is not UTF-8 text") from None
    except OSError as exc:
        raise BruinError(f"{path}: cannot read the file: {exc.strerror or type(exc).__name__}") from None


def _parse_yaml(text: str, file: Path, what: str) -> object:
    """Parse YAML; a syntax error becomes `<file>:<line>: <what>: <problem>`, never quoting the text."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        line, problem = yaml_error(exc)
        where = f"{file}:{line}" if line is not None else str(file)
        raise BruinError(f"{where}: {what}: {problem}" if problem else f"{where}: {what}") from None


def parse_mapping(text: str, file: Path, *, what: str = "invalid YAML", noun: str) -> dict | None:
    """The YAML document in `text` as a mapping, or None when it is empty.

    `what` prefixes syntax errors; `noun` names the document when it is not a mapping.
    """
    data = _parse_yaml(text, file, what)
    if data is None or isinstance(data, dict):
        return data
    raise BruinError(f"{file}:{_line_of(text, ())}: {noun} must be a YAML mapping, got {_kind(data)}")


def _line_of(source: str, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the node at `path` in `source`; only called on the way to an error."""
    try:
        node = yaml.compose(source, Loader=_Loader)
    except yaml.YAMLError:
        return None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            # The last duplicate key wins, as it does when the document is loaded.
            node = next((value for key, value in reversed(node.value) if key.value == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return None
    return node.start_mark.line + 1 if node is not None else None


def _kind(value: object) -> str:
    """How a YAML value is named in messages: its kind, never its content."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _scalar_text(value: object) -> str | None:
    """A scalar as the string Bruin would read into a string field; None for lists and mappings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


class Definition(Record):
    """A header mapping, plus what is needed to name the file line of a bad value in it."""

    data: dict
    file: Path
    source: str | None = None  # YAML text whose line numbers are the file's; None for legacy rows
    at: tuple[str | int, ...] = ()  # where `data` sits inside `source`

    def child(self, data: dict, *where: str | int) -> Definition:
        return Definition(data, self.file, self.source, (*self.at, *where))

    def error(self, message: str, *where: str | int) -> BruinError:
        line = _line_of(self.source, (*self.at, *where)) if self.source is not None else None
        return BruinError(f"{self.file}:{line}: {message}" if line else f"{self.file}: {message}")

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        text = _scalar_text(value)
        if text is None:
            raise self.error(f"'{key}' must be a string, got {_kind(value)}", key)
        return text

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip() in _GO_BOOLS:
            return _GO_BOOLS[value.strip()]
        raise self.error(f"'{key}' must be true or false", key)

    def mapping(self, key: str) -> dict:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"'{key}' must be a mapping, got {_kind(value)}", key)
        return dict(value)

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"'{key}' must be a whole number, got {_kind(value)}", key)
        return value

    def items(self, key: str, example: str) -> list[Definition]:
        """The mappings of a list of mappings, each as a child definition (for its line numbers)."""
        items = self.data.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.error(f"'{key}' must be a list of mappings like {example}, got {_kind(items)}", key)
        children = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.error(f"each {key} item must be a mapping like {example}, got {_kind(item)}", key, index)
            children.append(self.child(item, key, index))
        return children

    def texts(self, key: str) -> list[str]:
        """A list of strings; a single scalar counts as a list of one."""
        value = self.data.get(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        texts = []
        for index, item in enumerate(items):
            text = _scalar_text(item)
            if text is None:
                raise self.error(f"'{key}' must be a list of strings, got {_kind(item)} in it", key, index)
            texts.append(text)
        return texts


class HeaderFields(Record, frozen=False):
    """The header keys pybruin acts on, typed. Asset headers and pipeline `default:` share this schema."""

    name: str | None = None
    type: str | None = None
    description: str | None = None
    connection: str | None = None
    image: str | None = None
    instance: str | None = None
    owner: str | None = None
    start_date: str | None = None
    run: str | None = None
    enabled: bool | None = None
    depends: list[Dependency] = field(default_factory=list)
    secrets: list[SecretMapping] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    materialization: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    custom_checks: list[CustomCheck] = field(default_factory=list)
    #: Nanoseconds (a Go duration as written); None when not set, as 0 is.
    timeout: int | None = None
    hooks: Hooks = field(default_factory=Hooks)
    interval_modifiers: IntervalModifiers = field(default_factory=IntervalModifiers)
    refresh_restricted: bool | None = None


_TEXT_FIELDS = ("name", "type", "description", "connection", "image", "instance", "owner", "start_date", "run")


def read_fields(definition: Definition) -> HeaderFields:
    full, alias = definition.flag("full_refresh_restricted"), definition.flag("refresh_restricted")
    return HeaderFields(
        **{key: definition.text(key) for key in _TEXT_FIELDS},
        enabled=definition.flag("enabled"),
        depends=_depends(definition),
        secrets=_secrets(definition),
        parameters=definition.mapping("parameters"),
        materialization=_materialization(definition),
        tags=definition.texts("tags"),
        columns=[_column(item) for item in definition.items("columns", _COLUMN_EXAMPLE)],
        custom_checks=[_custom_check(item) for item in definition.items("custom_checks", _CUSTOM_CHECK_EXAMPLE)],
        timeout=_timeout(definition),
        hooks=_hooks(definition),
        interval_modifiers=_interval_modifiers(definition),
        refresh_restricted=full if full is not None else alias,
    )


def _timeout(definition: Definition) -> int | None:
    """`timeout: 30s`: a Go duration string; a bare number is refused, as upstream's YAML decoder does."""
    value = definition.data.get("timeout")
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return go_duration_nanoseconds(value.strip())
    except ValueError:
        raise definition.error("'timeout' must be a duration such as 30s, 5m or 1h30m", "timeout") from None


def _materialization(definition: Definition) -> dict:
    """The `materialization` mapping as written; `type`, `strategy` and `time_granularity` lower-cased."""
    materialization = definition.mapping("materialization")
    for key in ("type", "strategy", "time_granularity"):
        if isinstance(materialization.get(key), str):
            materialization[key] = materialization[key].lower()
    cluster_by = materialization.get("cluster_by")
    if cluster_by is not None and not (isinstance(cluster_by, list) and all(isinstance(c, str) for c in cluster_by)):
        raise definition.error("`cluster_by` field must be an array of strings", "materialization", "cluster_by")
    return materialization


def _hooks(definition: Definition) -> Hooks:
    """`hooks: {pre: [{query: ...}], post: [...], applicable_type: [...]}`."""
    hooks = definition.child(definition.mapping("hooks"), "hooks")
    queries: dict[str, tuple[str, ...]] = {}
    for side in ("pre", "post"):
        items = hooks.data.get(side)
        if items is None:
            queries[side] = ()
            continue
        if not isinstance(items, list):
            raise hooks.error(f"'{side}' hooks must be a list like '[{{query: ...}}]', got {_kind(items)}", side)
        found = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise hooks.error(f"each {side} hook must be a mapping like '{{query: ...}}'", side, index)
            found.append(hooks.child(item, side, index).text("query") or "")
        queries[side] = tuple(found)
    return Hooks(queries["pre"], queries["post"], tuple(hooks.texts("applicable_type")))


def _interval_modifiers(definition: Definition) -> IntervalModifiers:
    modifiers = definition.child(definition.mapping("interval_modifiers"), "interval_modifiers")
    sides: dict[str, TimeModifier] = {}
    for side in ("start", "end"):
        text = modifiers.text(side)
        try:
            sides[side] = TimeModifier() if text is None else parse_modifier(text)
        except IntervalError as exc:
            raise modifiers.error(str(exc), side) from None
    return IntervalModifiers(**sides)


def _secrets(definition: Definition) -> list[SecretMapping]:
    """`secrets:` items; an empty `inject_as` means the variable is named like the key."""
    mappings = []
    for entry in definition.items("secrets", _SECRET_EXAMPLE):
        key = entry.text("key") or ""
        mappings.append(SecretMapping(key=key, inject_as=entry.text("inject_as") or key))
    return mappings


def _column(entry: Definition) -> Column:
    foreign = entry.child(entry.mapping("foreign_key"), "foreign_key")
    declared = entry.data.get("foreign_key") is not None
    return Column(
        name=entry.text("name") or "",
        type=(entry.text("type") or "").strip(),
        description=entry.text("description") or "",
        primary_key=bool(entry.flag("primary_key")),
        checks=tuple(_column_check(item) for item in entry.items("checks", _CHECK_EXAMPLE)),
        update_on_merge=bool(entry.flag("update_on_merge")),
        merge_sql=entry.text("merge_sql") or "",
        nullable=entry.flag("nullable"),
        default=entry.text("default") or "",
        precision=entry.integer("precision"),
        scale=entry.integer("scale"),
        length=entry.integer("length"),
        collation=entry.text("collation") or "",
        foreign_key=(
            ForeignKey((foreign.text("table") or "").strip(), (foreign.text("column") or "").strip())
            if declared
            else None
        ),
    )


def _column_check(entry: Definition) -> ColumnCheck:
    return ColumnCheck(
        name=(entry.text("name") or "").strip(),
        value=_check_value(entry),
        blocking=entry.flag("blocking"),
        description=entry.text("description") or "",
    )


def _check_value(entry: Definition) -> CheckValue:
    """Upstream's decoding: a list of whole numbers stays numbers, any other list becomes the items' text."""
    value = entry.data.get("value")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if not isinstance(value, list):
        raise entry.error(f"'value' must be a number, a string, a boolean or a list, got {_kind(value)}", "value")
    if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        return tuple(value)
    texts = []
    for index, item in enumerate(value):
        text = _scalar_text(item)
        if text is None:
            raise entry.error(f"'value' must be a list of numbers or strings, got {_kind(item)} in it", "value", index)
        texts.append(text)
    return tuple(texts)


def _custom_check(entry: Definition) -> CustomCheck:
    return CustomCheck(
        name=entry.text("name") or "",
        query=entry.text("query") or "",
        value=entry.integer("value") or 0,
        count=entry.integer("count"),
        blocking=entry.flag("blocking"),
        description=entry.text("description") or "",
    )


def _depends(definition: Definition) -> list[Dependency]:
    value = definition.data.get("depends")
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    dependencies = []
    for index, item in enumerate(items):
        where = ("depends", index) if isinstance(value, list) else ("depends",)
        if isinstance(item, dict):
            dependencies.append(_dependency(definition.child(item, *where)))
            continue
        name = _scalar_text(item)
        if name is None:
            raise definition.error(
                f"each depends item must be an asset name or a mapping like '{{asset: NAME}}', got {_kind(item)}",
                *where,
            )
        dependencies.append(Dependency("asset", name))
    return dependencies


def _dependency(entry: Definition) -> Dependency:
    asset, uri = entry.text("asset"), entry.text("uri")
    if (asset is None) == (uri is None):
        raise entry.error("each depends mapping needs exactly one of 'asset' or 'uri'")
    mode = (entry.text("mode") or "full").lower()
    if mode not in ("full", "symbolic"):
        raise entry.error(f"depends mode must be 'full' or 'symbolic', got '{mode}'", "mode")
    if asset is not None:
        return Dependency("asset", asset, mode)
    return Dependency("uri", uri, mode)


class AssetSource(Record):
    """What one asset file declares, before the pipeline's defaults are applied."""

    definition_file: Path
    executable_file: Path
    header: dict
    fields: HeaderFields
    content: str


def read_asset(path: Path) -> AssetSource | None:
    """The asset `path` defines, or None for a SQL/Python/R file without a Bruin header."""
    text = read_text(path)
    if path.name.endswith(YAML_ASSET_SUFFIXES):
        return _yaml_asset(path, text)
    lines = text.split("\n")
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip() in _OPENERS:
        return _block_asset(path, lines, first)
    return _legacy_asset(path, lines)


def _block_asset(path: Path, lines: list[str], start: int) -> AssetSource:
    end = next((index for index in range(start + 1, len(lines)) if lines[index].strip() in _CLOSERS), None)
    if end is None:
        expected = _OPENERS[lines[start].strip()]
        raise BruinError(f"{path}:{start + 1}: the @bruin header is never closed (expected a line like '{expected}')")
    body = lines[start + 1 : end]
    # Blank lines in place of everything up to the opening marker keep YAML line numbers equal to the file's.
    source = "\n" * (start + 1) + "\n".join(body)
    header = None
    if any(map(str.strip, body)):
        header = parse_mapping(source, path, what="invalid YAML in the @bruin header", noun="the @bruin header")
    if header is None:
        raise BruinError(f"{path}: no embedded YAML found in the comments")
    fields = read_fields(Definition(header, path, source))
    return AssetSource(path, path, header, fields, "\n".join(lines[end + 1 :]).strip())


def _legacy_asset(path: Path, lines: list[str]) -> AssetSource | None:
    """Rows starting (at column 0) with the file's line-comment token followed by `@bruin.key: value`."""
    token = _LINE_COMMENTS.get(path.suffix)
    if token is None:
        return None
    header: dict = {}
    found = False
    body = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(token):
            body.append(line)
            continue
        row = line[len(token) :].strip()
        if row.startswith(_LEGACY_PREFIX):
            found = True
            key, colon, value = row[len(_LEGACY_PREFIX) :].partition(":")
            if colon:
                _add_legacy_row(header, key.strip(), value.strip(), f"{path}:{number}")
    if not found:
        return None
    return AssetSource(path, path, header, read_fields(Definition(header, path)), "\n".join(body).strip())


def _add_legacy_row(header: dict, key: str, value: str, where: str) -> None:
    if key in _LEGACY_TEXTS:
        header[key] = value
    elif key in _LEGACY_FLAGS:
        if value not in _GO_BOOLS:
            raise BruinError(f"{where}: '@bruin.{key}' must be true or false")
        header[key] = _GO_BOOLS[value]
    elif key in _LEGACY_INTEGERS:
        if not value.isdecimal():
            raise BruinError(f"{where}: '@bruin.{key}' must be a whole number")
        header[key] = int(value)
    elif key == "depends":
        header.setdefault("depends", []).extend(_comma_list(value))
    elif key == "secrets":
        header.setdefault("secrets", []).extend(_legacy_secret(item) for item in _comma_list(value))
    else:
        section, _, sub = key.partition(".")
        if section in _LEGACY_SECTIONS and sub and "." not in sub:
            if section == "materialization":
                sub = sub.lower()
            header.setdefault(section, {})[sub] = _comma_list(value) if sub == "cluster_by" else value


def _comma_list(value: str) -> list[str]:
    return [item for item in map(str.strip, value.split(",")) if item]


def _legacy_secret(item: str) -> dict:
    """`KEY:ENV_VAR` or a bare `KEY`."""
    key, _, inject_as = item.partition(":")
    return {"key": key.strip(), "inject_as": inject_as.split(":")[0].strip()}


def _yaml_asset(path: Path, text: str) -> AssetSource:
    data = parse_mapping(text, path, noun="an asset definition") or {}
    definition = Definition(data, path, text)
    fields = read_fields(definition)
    if not fields.run:
        return AssetSource(path, path, data, fields, "")
    executable = Path(os.path.normpath(path.parent / fields.run))
    try:
        content = executable.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise definition.error(f"cannot read the 'run' file '{fields.run}'", "run") from None
    return AssetSource(path, executable, data, fields, content.strip())
