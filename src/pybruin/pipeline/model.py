"""The pipeline as the rest of pybruin sees it: plain data, already merged with the pipeline defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pybruin.records import Record, field


class SecretMapping(Record):
    """One connection an asset may read (`key`) and the environment variable it receives it as."""

    key: str
    inject_as: str


class Dependency(Record):
    """One `depends` entry as written; only `kind == "asset"` with `mode == "full"` orders the run."""

    kind: Literal["asset", "uri"]
    value: str
    mode: Literal["full", "symbolic"] = "full"


#: A column check's `value` as declared: unset, a scalar, or a list of ints or of strings.
CheckValue = None | bool | int | float | str | tuple[int, ...] | tuple[str, ...]


class ColumnCheck(Record):
    """One `columns[].checks[]` item. `id` is upstream's (sha256 of asset, column and check name), set
    once the asset's name is known; `blocking` None means unset (it blocks)."""

    name: str
    value: CheckValue = None
    blocking: bool | None = None
    description: str = ""
    id: str = ""

    @property
    def blocks(self) -> bool:
        return self.blocking is not False


class ForeignKey(Record):
    """A column's `foreign_key`: the asset and column it references (`relationships` checks it, `ddl` declares it)."""

    table: str
    column: str


class Column(Record):
    """One `columns` entry: its checks, and what materializations read from it (keys, merge and DDL details)."""

    name: str
    type: str = ""
    description: str = ""
    primary_key: bool = False
    checks: tuple[ColumnCheck, ...] = ()
    update_on_merge: bool = False
    merge_sql: str = ""
    nullable: bool | None = None
    default: str = ""
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    collation: str = ""
    foreign_key: ForeignKey | None = None

    @property
    def sql_type(self) -> str:
        """The declared type with its precision/scale or length, unless the type already has parentheses."""
        kind = self.type.strip()
        if not kind or "(" in kind:
            return kind
        if self.precision is not None and self.scale is not None:
            return f"{kind}({self.precision}, {self.scale})"
        if self.precision is not None:
            return f"{kind}({self.precision})"
        if self.length is not None:
            return f"{kind}({self.length})"
        return kind


class CustomCheck(Record):
    """One `custom_checks` item: a query whose single value must equal `value` (or, with `count`, whose
    row count must equal `count`)."""

    name: str
    query: str = ""
    value: int = 0
    count: int | None = None
    blocking: bool | None = None
    description: str = ""
    id: str = ""

    @property
    def blocks(self) -> bool:
        return self.blocking is not False

    @property
    def expected(self) -> int:
        return self.value if self.count is None else self.count


class Hooks(Record):
    """SQL run before and after an asset's own SQL, in the same script; `applicable_types` filters which
    asset types inherit a pipeline's default hooks."""

    pre: tuple[str, ...] = ()
    post: tuple[str, ...] = ()
    applicable_types: tuple[str, ...] = ()


class TimeModifier(Record):
    """A shift of the run's start or end date (`-2h`, `1M`), or a Jinja template rendering one."""

    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0
    milliseconds: int = 0
    nanoseconds: int = 0
    template: str = ""


class IntervalModifiers(Record):
    """`interval_modifiers`: how the run's start and end move for this asset (with `--apply-interval-modifiers`)."""

    start: TimeModifier = TimeModifier()
    end: TimeModifier = TimeModifier()


class Asset(Record, frozen=False):
    """One asset: its header fields as pybruin uses them, already merged with the pipeline's `default:` block."""

    name: str
    type: str
    definition_file: Path
    executable_file: Path
    content: str = ""
    depends: list[str] = field(default_factory=list)
    secrets: list[SecretMapping] = field(default_factory=list)
    connection: str | None = None
    enabled: bool = True
    image: str | None = None
    materialization: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    header: dict = field(default_factory=dict)
    # Dependencies that never order the run (symbolic ones and `uri:` ones), kept for reporting.
    other_depends: list[Dependency] = field(default_factory=list)
    description: str | None = None
    owner: str | None = None
    instance: str | None = None
    start_date: str | None = None
    tags: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    custom_checks: list[CustomCheck] = field(default_factory=list)
    #: Nanoseconds each run of the asset may take (its own `timeout`, else the pipeline's); None: no limit.
    timeout: int | None = None
    hooks: Hooks = Hooks()
    interval_modifiers: IntervalModifiers = IntervalModifiers()
    # `full_refresh_restricted` (alias `refresh_restricted`): None when neither the asset nor the pipeline sets it.
    refresh_restricted: bool | None = None


class Pipeline(Record, frozen=False):
    """One pipeline: its `pipeline.yml` settings and its assets, in file order."""

    name: str
    directory: Path
    definition_file: Path
    default_connections: dict[str, str] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)
    commit: str = ""
    pristine_env: bool = False
    #: `default.timeout` of pipeline.yml in nanoseconds; None when not set.
    default_timeout: int | None = None
    assets: list[Asset] = field(default_factory=list)
    # pipeline.yml as parsed, for the keys pybruin reports as unsupported rather than acting on.
    definition: dict = field(default_factory=dict)
    _by_name: dict[str, Asset] = field(default_factory=dict, init=False, repr=False, compare=False)

    def asset(self, name: str) -> Asset | None:
        """The asset called `name`: a dict lookup, rebuilt when the asset list has changed size."""
        if len(self._by_name) != len(self.assets):
            self._by_name = {asset.name: asset for asset in self.assets}
        return self._by_name.get(name)
