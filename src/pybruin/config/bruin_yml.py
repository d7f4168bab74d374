"""Loading ``.bruin.yml``: environments, their schema prefix and their connections.

The file is parsed once; an environment's connections are only built when that environment is
asked for, so a broken connection in an environment nobody selected cannot stop a run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from pybruin.config.connections import (
    CONNECTION_TYPES,
    Connection,
    ConnectionConfigError,
    build_connection,
    credential_fields,
)
from pybruin.config.connections.credentials import url_credentials
from pybruin.config.expand import expand_set_variables, expand_unset_to_empty, referenced_variables
from pybruin.config.sops import decrypt, is_encrypted
from pybruin.config.yamlfiles import load_config_yaml, yaml_error
from pybruin.errors import BruinError
from pybruin.pyyaml import yaml
from pybruin.records import Record, field

DEFAULT_CONFIG_NAME = ".bruin.yml"
CONTENT_VARIABLE = "BRUIN_CONFIG_FILE_CONTENT"
_DEFAULT_CONFIG_TEXT = "default_environment: default\nenvironments:\n  default:\n    connections: {}\n"


class Environment(Record):
    """One environment of the config, with its connections built and checked."""

    name: str
    schema_prefix: str  # "" or ending in "_"
    connections: Mapping[str, Connection]  # by connection name, in file order
    #: Variables whose values are credentials: the ones a credential field refers to as `${NAME}`, or a field
    #: whose value turns out to be a URL with a login. No asset process inherits them.
    withheld_variables: frozenset[str] = frozenset()
    #: `config: {full_refresh_restricted: true}`: `--full-refresh` rebuilds none of this environment's tables
    full_refresh_restricted: bool = False


class BruinConfig(Record, frozen=False):
    """A parsed ``.bruin.yml``. ``environment()`` builds (once) the connections of the one asked for."""

    path: Path  # the config file; its folder anchors relative paths even when the text came from the env
    default_environment: str
    environment_names: list[str]
    _source: str = field(repr=False)
    _raw_environments: Mapping[str, object] = field(repr=False)  # by name, as parsed: before any expansion
    _environ: Mapping[str, str] = field(repr=False)
    _built: dict[str, Environment] = field(default_factory=dict, repr=False)
    #: Whether the text was SOPS-encrypted (and decrypted in memory only).
    encrypted: bool = False

    def environment(self, name: str | None) -> Environment:
        """The named environment (``None``: the default one), raising BruinError if it is unusable."""
        name = self.default_environment if name is None else name
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._build(name)
        return built

    def written(self, name: str) -> Mapping[str, object]:
        """The environment as written in the file (before `${VAR}` expansion), for listings and edits."""
        raw = self._raw_environments.get(name)
        if raw is None:
            raise BruinError(f"environment '{name}' not found in the configuration file")
        return raw if isinstance(raw, Mapping) else {}

    def _build(self, name: str) -> Environment:
        if name not in self._raw_environments:
            raise BruinError(f"environment '{name}' not found in the configuration file")
        raw = self._raw_environments[name]
        if not isinstance(raw, Mapping) or raw.get("connections") is None:
            raise BruinError(f"environment '{name}' has no connections defined")
        where = f"{self._source}: environment '{name}'"
        prefix = expand_set_variables(raw.get("schema_prefix"), self._environ) or ""
        if not isinstance(prefix, str):
            raise BruinError(f"{where}: schema_prefix must be a string")
        if prefix and not prefix.endswith("_"):
            prefix += "_"
        withheld: set[str] = set()
        connections = self._connections(raw["connections"], where, withheld)
        settings = raw.get("config")
        restricted = isinstance(settings, Mapping) and settings.get("full_refresh_restricted") in (True, "true")
        return Environment(name, prefix, MappingProxyType(connections), frozenset(withheld), restricted)

    def _connections(self, by_type: object, where: str, withheld: set[str]) -> dict[str, Connection]:
        if not isinstance(by_type, Mapping):
            raise BruinError(f"{where}: connections must be a mapping of connection types")
        connections: dict[str, Connection] = {}
        for raw_type, entries in by_type.items():
            type_key = str(raw_type)
            if not isinstance(entries, list):
                raise BruinError(f"{where}: connection type '{type_key}' must hold a list of connections")
            for number, entry in enumerate(entries, start=1):
                connection = self._connection(type_key, number, entry, where)
                withheld |= self._credential_variables(type_key, entry)
                earlier = connections.get(connection.name)
                if earlier is not None:
                    first = earlier.type_key
                    users = f"two {type_key}" if first == type_key else f"both {first} and {type_key}"
                    raise BruinError(f"{where}: connection name '{connection.name}' is used by {users} connections")
                connections[connection.name] = connection
        return connections

    def _connection(self, type_key: str, number: int, entry: object, where: str) -> Connection:
        if not isinstance(entry, Mapping):
            raise BruinError(f"{where}: {type_key} connection #{number} must be a mapping")
        if entry.get("name") in (None, ""):
            raise BruinError(f"{where}: {type_key} connection #{number} has no name")
        # Without a model nothing else gives an unquoted or substituted "5432" its type, so YAML 1.2 does.
        fields = expand_set_variables(dict(entry), self._environ, resolve_types=type_key not in CONNECTION_TYPES)
        try:
            return build_connection(type_key, fields, base_dir=self.path.parent, environ=self._environ)
        except ConnectionConfigError as exc:
            raise ConnectionConfigError(f"{where}: {exc}") from None

    def _credential_variables(self, type_key: str, entry: Mapping[object, object]) -> set[str]:
        """The variables of `entry` (as written) that hold credentials, so that no asset inherits them."""
        names = referenced_variables([value for _, value in credential_fields(type_key, entry)])
        for value in entry.values():
            if isinstance(value, str) and (used := referenced_variables(value)):
                expanded = str(expand_unset_to_empty(value, self._environ))
                if next(url_credentials(expanded), None) is not None:
                    names |= used
        return names


def load_config(project_root: Path, config_file: Path | None, environ: Mapping[str, str]) -> BruinConfig:
    """Read the project's config, creating a default one (and git-ignoring it) when it is missing.

    ``config_file`` (``--config-file``) falls back to ``BRUIN_CONFIG_FILE``, then to
    ``<project_root>/.bruin.yml``; a relative one is taken from the working directory.
    ``BRUIN_CONFIG_FILE_CONTENT``, when non-empty, is parsed instead of the file, which is then
    neither read nor written. ``environ`` is copied: expansion sees the variables as they were now.
    Either may be SOPS-encrypted: it is then decrypted in memory (see ``sops.py``).
    """
    chosen = config_file or environ.get("BRUIN_CONFIG_FILE") or Path(project_root, DEFAULT_CONFIG_NAME)
    path = Path(os.path.abspath(chosen))
    content = environ.get(CONTENT_VARIABLE)
    if content:
        source, text = CONTENT_VARIABLE, content
    else:
        source = str(path)
        if not path.exists():
            _create_default(path)
        text = read_config_text(path)
    document = _parse(text, source)
    encrypted = is_encrypted(document)
    if encrypted:
        document = _parse(decrypt(text, source, environ), source)
    environ = dict(environ)

    raw_environments = document.get("environments") or {}
    if not isinstance(raw_environments, Mapping):
        raise BruinError(f"{source}: environments must be a mapping of environment names")
    default = expand_set_variables(document.get("default_environment"), environ) or "default"
    if not isinstance(default, str):
        raise BruinError(f"{source}: default_environment must be a string")
    by_name = {str(name): raw for name, raw in raw_environments.items()}
    return BruinConfig(
        path=path,
        default_environment=default,
        environment_names=list(by_name),
        _source=source,
        _raw_environments=by_name,
        _environ=environ,
        encrypted=encrypted,
    )


def read_config_text(path: Path, *, newline: str | None = None) -> str:
    """The config file's text; ``newline=""`` keeps its line ends as they are (for editing it)."""
    try:
        with open(path, encoding="utf-8", newline=newline) as file:
            return file.read()
    except OSError as exc:
        raise BruinError(f"failed to read file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BruinError(f"failed to read file {path}: not UTF-8 text") from None


def ignore_in_git(folder: Path, entries: Iterable[str]) -> Path:
    """Add each entry that ``folder/.gitignore`` lacks (written as is or anchored with ``/``) to it."""
    gitignore = folder / ".gitignore"
    try:
        # surrogateescape: whatever bytes the file holds are written back unchanged.
        existing = gitignore.read_text("utf-8", "surrogateescape") if gitignore.exists() else ""
        present = {line.strip() for line in existing.splitlines()}
        missing = [entry for entry in entries if entry not in present and f"/{entry}" not in present]
        if missing:
            separator = "" if existing == "" or existing.endswith("\n") else "\n"
            lines = "".join(f"{entry}\n" for entry in missing)
            gitignore.write_text(existing + separator + lines, "utf-8", "surrogateescape")
    except OSError as exc:
        raise BruinError(f"cannot update '{gitignore}': {exc.strerror}") from None
    return gitignore


def _parse(text: str, source: str) -> Mapping[object, object]:
    try:
        document = load_config_yaml(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_error(exc)
        where = f"{source}:{line}" if line is not None else source
        raise BruinError(f"{where}: invalid YAML: {problem}" if problem else f"{where}: invalid YAML") from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise BruinError(f"{source}: the top level must be a mapping")
    return document


def _create_default(path: Path) -> None:
    """Write the empty default config, owner-only as credentials will go there, and git-ignore it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(_DEFAULT_CONFIG_TEXT)
    except OSError as exc:
        raise BruinError(f"cannot create {path}: {exc.strerror}") from None
    ignore_in_git(path.parent, [path.name])
