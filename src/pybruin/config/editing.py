"""Adding and deleting connections in ``.bruin.yml`` without touching anything else in it.

A SOPS-encrypted file is refused (by its ``sops`` block): editing it means decrypting it, and pybruin
writes no config's plaintext anywhere; ``sops edit`` is the tool for that.

People keep comments, commented-out connections and their own layout in this file. A parse-and-dump
round trip, even ruamel.yaml's, rewrites lines nobody asked to change (``~`` becomes empty, extra spaces
and flow-list commas are normalised), so edits here are splices: the file is parsed only to learn where
things are, and exactly the text of the entry that is added or removed changes.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from pybruin.config.bruin_yml import ignore_in_git, load_config, read_config_text
from pybruin.config.connections import build_connection
from pybruin.config.yamlfiles import load_config_yaml, yaml_error
from pybruin.errors import BruinError
from pybruin.pyyaml import yaml
from pybruin.records import Record

_DEFAULT_INDENT = 2  # nested mapping keys, relative to their parent key
_DEFAULT_DASH_OFFSET = 2  # a list's dashes, relative to the key holding the list


def add_connection(
    config_path: Path, environment: str, name: str, type_key: str, credentials: Mapping[str, object]
) -> None:
    """Append ``{name: <name>, **credentials}`` to ``environments.<environment>.connections.<type_key>``.

    The entry is validated with the connection's model before anything is written, so a bad field is
    reported (by name, never by value) instead of breaking the next run. A missing config file is first
    created the way every command creates it.
    """
    config = _ConfigText.read(config_path)
    env = config.environment(environment)
    if config.find(env.value, name) is not None:
        raise BruinError(f"a connection named '{name}' already exists in the '{environment}' environment")
    if "name" in credentials:
        raise BruinError("the credentials must not contain 'name': the connection's name is given on its own")
    entry = {"name": name, **credentials}
    build_connection(type_key, entry, base_dir=config_path.parent, environ=os.environ)
    config.save(config.insertion(env, type_key, entry))


def delete_connection(config_path: Path, environment: str, name: str, *, keep_copy: bool = False) -> None:
    """Remove the connection called ``name`` from an environment, and its type's list if that empties.

    With ``keep_copy`` its fields, as written, are kept beside the config (``kept_copy``) until the next
    ``add`` uses them: an editor that deletes and re-adds a connection gives back ``****`` for the values
    it was never shown (``bruin connections delete`` keeps one).
    """
    config = _ConfigText.read(config_path)
    found = config.find(config.environment(environment).value, name)
    if found is None:
        raise BruinError(f"connection '{name}' not found in environment '{environment}'")
    if keep_copy:
        type_key, fields = config.written(environment, found)
        _keep_copy(config_path, {"environment": environment, "name": name, "type": type_key, "fields": fields})
    config.save(config.removal(found))


def kept_path(config_path: Path) -> Path:
    return config_path.with_name(config_path.name + ".last-deleted")


def kept_copy(config_path: Path) -> dict | None:
    """The connection `delete_connection` removed last — ``{environment, name, type, fields}`` — if any."""
    path = kept_path(config_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BruinError(f"failed to read file {path}: {exc.strerror}") from None
    try:
        document = load_config_yaml(text)
    except yaml.YAMLError:
        return None
    return document if isinstance(document, dict) else None


def forget_copy(config_path: Path) -> None:
    kept_path(config_path).unlink(missing_ok=True)


def _keep_copy(config_path: Path, copy: dict[str, object]) -> None:
    """Owner-only, git-ignored, next to the config that held the same values a moment ago."""
    path = kept_path(config_path)
    _write_atomically(path, _dump(_plain(copy), default_flow_style=False), 0o600)
    ignore_in_git(path.parent, [path.name])


def _plain(value: object) -> object:
    """Parsed YAML with the loader's str subclasses made plain str, so it can be written back."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, str) else value


def create_environment(config_path: Path, name: str, schema_prefix: str = "") -> None:
    """Add an environment without connections (and with `schema_prefix` when given)."""
    config = _ConfigText.read(config_path)
    if config.has_environment(name):
        raise BruinError(f"environment '{name}' already exists")
    body: dict[str, object] = {"connections": {}}
    if schema_prefix:
        body["schema_prefix"] = schema_prefix
    config.save(config.environment_insertion(name, body))


def update_environment(config_path: Path, name: str, new_name: str = "", schema_prefix: str = "") -> None:
    """Rename an environment (the default follows it) and/or set its schema prefix ("" keeps it)."""
    config = _ConfigText.read(config_path)
    env = config.environment(name)
    new_name = new_name or name
    if new_name != name and config.has_environment(new_name):
        raise BruinError(f"environment '{new_name}' already exists")
    edits = []
    if new_name != name:
        edits.append(_Edit(env.key.start_mark.index, env.key.end_mark.index, _flow(new_name)))
        default = config._get(config.root, "default_environment")
        if default is not None and isinstance(default.value, yaml.ScalarNode) and default.value.value == name:
            edits.append(_Edit(default.value.start_mark.index, default.value.end_mark.index, _flow(new_name)))
    if schema_prefix:
        edits.append(config.setting(env, "schema_prefix", schema_prefix))
    config.save(edits)


def delete_environment(config_path: Path, name: str) -> None:
    """Remove an environment; deleting the default one makes the first remaining one the default."""
    config = _ConfigText.read(config_path)
    config.environment(name)  # it must exist
    environments = config._get(config.root, "environments")
    assert environments is not None and isinstance(environments.value, yaml.MappingNode)
    names = [key.value for key, _ in environments.value.value]
    if len(names) == 1:
        raise BruinError("cannot delete the last environment")
    if environments.value.flow_style:
        raise BruinError(
            f"cannot edit {config_path} automatically: its environments are written inline; edit it by hand"
        )
    edits = [config._without(environments.value, names.index(name))]
    default = config._get(config.root, "default_environment")
    if default is not None and isinstance(default.value, yaml.ScalarNode) and default.value.value == name:
        remaining = next(other for other in names if other != name)
        edits.append(_Edit(default.value.start_mark.index, default.value.end_mark.index, _flow(remaining)))
    config.save(edits)


def clone_environment(config_path: Path, source: str, target: str, schema_prefix: str = "") -> None:
    """Copy `source` (its connections and settings, as written) to a new environment `target`."""
    config = _ConfigText.read(config_path)
    env = config.environment(source)
    if config.has_environment(target):
        raise BruinError(f"target environment '{target}' already exists")
    start = config._line_start(env.key.start_mark.index)
    end = config._line_after(config._end(env.value))
    block = config.text[start:end]
    lead = config.newline if end == len(config.text) and not config.text.endswith("\n") else ""
    if not block.endswith("\n"):
        block += config.newline
    key_at = env.key.start_mark.index - start
    block = block[:key_at] + _flow(target) + block[key_at + env.key.end_mark.index - env.key.start_mark.index :]
    config.save([_Edit(end, end, lead + block)])
    if schema_prefix:
        update_environment(config_path, target, schema_prefix=schema_prefix)


def environment_names(config_path: Path) -> tuple[str, list[str]]:
    """The default environment's name and every environment's name, in file order, as written."""
    config = _ConfigText.read(config_path)
    environments = config._get(config.root, "environments")
    names = [str(key.value) for key, _ in environments.value.value] if environments is not None and isinstance(
        environments.value, yaml.MappingNode) else []  # fmt: skip
    default = config._get(config.root, "default_environment")
    chosen = default.value.value if default is not None and isinstance(default.value, yaml.ScalarNode) else ""
    return str(chosen or "default"), names


class _Entry(Record):
    """A key and its value inside ``parent``, a mapping node."""

    parent: yaml.MappingNode
    key: yaml.Node
    value: yaml.Node


class _Found(Record):
    """Where a named connection sits: item ``index`` of the list at ``connections.value[type_index]``."""

    connections: _Entry
    type_index: int
    index: int


class _Edit(Record):
    start: int
    end: int
    text: str


class _ConfigText:
    """The config file's text, its parsed nodes (for positions only), and the layout new lines follow."""

    def __init__(self, path: Path, text: str, mode: int) -> None:
        self.path = path
        self.text = text
        self.mode = mode
        self.newline = "\r\n" if "\r\n" in text else "\n"
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            line, _ = yaml_error(exc)
            where = f"{path}:{line}" if line is not None else str(path)
            raise BruinError(f"cannot edit {where}: the file is not valid YAML") from None
        if self._get(self.root, "sops") is not None:
            raise BruinError(
                f"cannot edit {path}: it is encrypted with SOPS and pybruin never writes a config's plaintext; "
                f"change it with 'sops edit {path.name}'"
            )
        # Text under an anchor is shared with every alias of it, and a tag moves where a collection
        # starts: neither can be edited in one place, so such files are left to the user.
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken | yaml.TagToken):
                raise BruinError(
                    f"cannot edit {path} automatically: line {token.start_mark.line + 1} uses a YAML anchor, "
                    "alias or tag; edit the file by hand"
                )
        self.indent, self.dash_offset = self._layout()

    @classmethod
    def read(cls, path: Path) -> _ConfigText:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            load_config(path.parent, path, {})  # writes the default file (owner-only) and git-ignores it
            mode = 0o600
        except OSError as exc:
            raise BruinError(f"failed to read file {path}: {exc.strerror}") from None
        return cls(path, read_config_text(path, newline=""), mode)  # CRLF line ends stay as they are

    def save(self, edits: list[_Edit]) -> None:
        text = self.text
        for edit in sorted(edits, key=lambda edit: edit.start, reverse=True):
            text = text[: edit.start] + edit.text + text[edit.end :]
        _write_atomically(self.path, text, self.mode)

    # -- finding things ------------------------------------------------------------------------

    def environment(self, name: str) -> _Entry:
        environments = self._get(self.root, "environments")
        found = self._get(environments.value, name) if environments is not None else None
        if found is None:
            raise BruinError(f"environment '{name}' does not exist")
        return found

    def written(self, environment: str, found: _Found) -> tuple[str, dict]:
        """The type key and the fields, as parsed (unexpanded), of the connection at `found`."""
        document = load_config_yaml(self.text)
        by_type = document["environments"][environment]["connections"]
        type_key = list(by_type)[found.type_index]
        return str(type_key), dict(by_type[type_key][found.index])

    def has_environment(self, name: str) -> bool:
        environments = self._get(self.root, "environments")
        return environments is not None and self._get(environments.value, name) is not None

    def environment_insertion(self, name: str, body: dict[str, object]) -> list[_Edit]:
        """Edits adding environment `name` with `body` after the last one (creating `environments:`)."""
        environments = self._get(self.root, "environments")
        if environments is None:
            at = len(self.text)
            lead = "" if not self.text or self.text.endswith("\n") else self.newline
            lines = _dump({"environments": {name: body}}, default_flow_style=False, indent=self.indent)
            return [_Edit(at, at, lead + lines.replace("\n", self.newline))]
        node = environments.value
        if _is_empty(node):
            return self._fill_mapping(environments, {name: body})
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            raise BruinError(
                f"cannot edit {self.path} automatically: its environments are written inline; edit it by hand"
            )
        return [self._lines_after(node, self._mapping_block({name: body}, node.start_mark.column))]

    def setting(self, env: _Entry, key: str, value: str) -> _Edit:
        """The edit setting `key: value` in an environment's mapping, replacing the value if present."""
        if not isinstance(env.value, yaml.MappingNode) or env.value.flow_style:
            raise BruinError(f"cannot edit {self.path} automatically: environment '{env.key.value}' is written inline")
        existing = self._get(env.value, key)
        if existing is not None and isinstance(existing.value, yaml.ScalarNode):
            return _Edit(existing.value.start_mark.index, existing.value.end_mark.index, _flow(value))
        column = env.value.start_mark.column
        return self._lines_after(env.value, self._mapping_block({key: value}, column))

    def _fill_mapping(self, slot: _Entry, mapping: dict[str, object]) -> list[_Edit]:
        node = slot.value
        start = node.start_mark.index
        if node.end_mark.index > start:
            while self.text[start - 1] in " \t":
                start -= 1
        block = self._mapping_block(mapping, slot.key.start_mark.column + self.indent)
        return [_Edit(start, node.end_mark.index, ""), self._lines_after(node, block)]

    def _mapping_block(self, mapping: dict[str, object], column: int) -> str:
        text = _dump(mapping, default_flow_style=False, indent=self.indent)
        pad = " " * column
        return "".join((pad + line if line else "") + self.newline for line in text.splitlines())

    def find(self, env: yaml.Node, name: str) -> _Found | None:
        connections = self._get(env, "connections")
        if connections is None or not isinstance(connections.value, yaml.MappingNode):
            return None
        for type_index, (_, entries) in enumerate(connections.value.value):
            if not isinstance(entries, yaml.SequenceNode):
                continue
            for index, item in enumerate(entries.value):
                named = self._get(item, "name")
                if named is not None and isinstance(named.value, yaml.ScalarNode) and named.value.value == name:
                    return _Found(connections, type_index, index)
        return None

    def _get(self, node: yaml.Node | None, key: str) -> _Entry | None:
        if not isinstance(node, yaml.MappingNode):
            return None
        return next((_Entry(node, k, v) for k, v in node.value if k.value == key), None)

    # -- adding --------------------------------------------------------------------------------

    def insertion(self, env: _Entry, type_key: str, entry: dict[str, object]) -> list[_Edit]:
        """Edits adding ``entry``, creating ``connections`` and the type's list when they are missing."""
        addition: dict[str, object] | list[object] = {"connections": {type_key: [entry]}}
        slot = env
        while isinstance(addition, dict):
            [(key, inner)] = addition.items()
            found = self._get(slot.value, key)
            if found is None:
                break
            slot, addition = found, inner
        return self._add(slot, addition)

    def _add(self, slot: _Entry, addition: dict[str, object] | list[object]) -> list[_Edit]:
        node = slot.value
        if _is_empty(node):
            return self._fill(slot, addition)
        if not isinstance(node, yaml.MappingNode if isinstance(addition, dict) else yaml.SequenceNode):
            kind = "a mapping" if isinstance(addition, dict) else "a list"
            raise BruinError(f"{self.path}:{node.start_mark.line + 1}: '{slot.key.value}' must hold {kind}")
        if node.flow_style:
            at = self._spans(node)[-1][1]
            return [_Edit(at, at, ", " + _flow(addition)[1:-1])]
        return [self._lines_after(node, self._block(addition, node.start_mark.column))]

    def _fill(self, slot: _Entry, addition: dict[str, object] | list[object]) -> list[_Edit]:
        """Replace an empty value (nothing, ``~``, ``{}``, ``[]``) with ``addition``."""
        node = slot.value
        if slot.parent.flow_style:
            return [_Edit(node.start_mark.index, node.end_mark.index, _flow(addition))]
        start = node.start_mark.index
        if node.end_mark.index > start:  # take the space before `{}` along; nothing to take for an empty value
            while self.text[start - 1] in " \t":
                start -= 1
        step = self.indent if isinstance(addition, dict) else self.dash_offset
        block = self._block(addition, slot.key.start_mark.column + step)
        return [_Edit(start, node.end_mark.index, ""), self._lines_after(node, block)]

    def _block(self, value: dict[str, object] | list[object], column: int) -> str:
        pad = " " * column
        if isinstance(value, dict):
            [(key, inner)] = value.items()
            step = self.indent if isinstance(inner, dict) else self.dash_offset
            return f"{pad}{key}:{self.newline}" + self._block(inner, column + step)
        [entry] = value
        lines = _dump(entry, default_flow_style=False, indent=self.indent).splitlines()
        return "".join(
            (f"{pad}{'  ' if number else '- '}{line}" if line else "") + self.newline
            for number, line in enumerate(lines)
        )

    def _lines_after(self, node: yaml.Node, lines: str) -> _Edit:
        """Insert ``lines`` right after the last line of ``node``."""
        at = self._line_after(self._end(node))
        needs_break = at == len(self.text) and not self.text.endswith("\n")
        return _Edit(at, at, (self.newline if needs_break else "") + lines)

    # -- removing ------------------------------------------------------------------------------

    def removal(self, found: _Found) -> list[_Edit]:
        connections = found.connections.value
        entries = connections.value[found.type_index][1]
        if len(entries.value) > 1:
            return [self._without(entries, found.index)]
        if len(connections.value) > 1:
            return [self._without(connections, found.type_index)]
        # The last connection of the environment: `connections: {}` keeps the environment loadable.
        if connections.flow_style:
            return [_Edit(connections.start_mark.index, connections.end_mark.index, "{}")]
        colon = self.text.index(":", found.connections.key.end_mark.index) + 1
        start = self._line_start(connections.start_mark.index)
        return [_Edit(colon, colon, " {}"), _Edit(start, self._line_after(self._end(connections)), "")]

    def _without(self, node: yaml.MappingNode | yaml.SequenceNode, index: int) -> _Edit:
        """The edit removing child ``index`` of a collection that has at least two children."""
        spans = self._spans(node)
        start, end = spans[index]
        if not node.flow_style:
            return _Edit(self._line_start(start), self._line_after(end), "")
        if index + 1 < len(spans):
            return _Edit(start, spans[index + 1][0], "")  # the item, its comma and the space after it
        return _Edit(spans[index - 1][1], end, "")  # the comma before the last item, and the item

    # -- positions -----------------------------------------------------------------------------

    def _spans(self, node: yaml.MappingNode | yaml.SequenceNode) -> list[tuple[int, int]]:
        """Where each child's own text starts and ends (a block list item starts at its dash)."""
        if isinstance(node, yaml.MappingNode):
            return [(key.start_mark.index, self._end(value)) for key, value in node.value]
        spans = [(item.start_mark.index, self._end(item)) for item in node.value]
        if node.flow_style:
            return spans
        return [(self.text.rindex("-", 0, start), end) for start, end in spans]

    def _end(self, node: yaml.Node) -> int:
        """The index just past a node's own text: a block collection ends where its last value does,
        before any comment or blank line that follows it."""
        while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
            node = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
        return node.end_mark.index

    def _line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def _line_after(self, end: int) -> int:
        """The start of the line after the one holding the character before ``end``."""
        newline = self.text.find("\n", max(end - 1, 0))
        return len(self.text) if newline < 0 else newline + 1

    def _layout(self) -> tuple[int, int]:
        """How far the file indents nested keys, and list dashes under their key (first examples found)."""
        steps = [
            (value, value.start_mark.column - key.start_mark.column)
            for key, value in _block_pairs(self.root)
            if isinstance(value, yaml.MappingNode | yaml.SequenceNode) and value.value and not value.flow_style
        ]
        indent = next((s for v, s in steps if isinstance(v, yaml.MappingNode) and 2 <= s <= 9), _DEFAULT_INDENT)
        dash = next((s for v, s in steps if isinstance(v, yaml.SequenceNode) and 0 <= s <= 8), _DEFAULT_DASH_OFFSET)
        return indent, dash


def _block_pairs(root: yaml.Node | None) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """Every key and value of every block mapping, in document order."""
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            if not node.flow_style:
                yield from node.value
            pending.extend(reversed([value for _, value in node.value]))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(reversed(node.value))


def _is_empty(node: yaml.Node) -> bool:
    """Nothing, ``~``/``null``, ``{}`` or ``[]``: a value that can simply be replaced."""
    if isinstance(node, yaml.ScalarNode):
        return node.tag == "tag:yaml.org,2002:null"
    return not node.value


def _flow(value: object) -> str:
    text = _dump(value, default_flow_style=True).strip()
    return text.removesuffix("\n...").rstrip() if not isinstance(value, dict | list) else text


def _dump(value: object, **options: object) -> str:
    try:
        return yaml.dump(value, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=math.inf, **options)
    except yaml.YAMLError:
        # The representer's message includes the object, which may be a credential.
        raise BruinError("the credentials hold a value that cannot be written as YAML") from None


@functools.cache
def _dumper() -> type:
    """PyYAML's safe dumper, writing multi-line text (a PEM key, say) as a ``|`` block where it can."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    dumper = type("_Dumper", (yaml.SafeDumper,), {})
    dumper.add_representer(str, text)
    return dumper


def _write_atomically(path: Path, text: str, mode: int) -> None:
    """Replace the file in one step, so a crash never leaves half a config (or a world-readable temp)."""
    target = Path(os.path.realpath(path))  # a symlinked config stays a symlink
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)  # already gone once replaced
    except OSError as exc:
        raise BruinError(f"cannot write {path}: {exc.strerror}") from None
