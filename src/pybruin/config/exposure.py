"""What a config file gives away once git tracks it: the file itself, and credentials written out in it.

``.bruin.yml`` is meant to stay out of the repository (pybruin git-ignores it when it creates it).
When it is tracked anyway, a credential written literally is in the history for good, while a
``${VAR}`` reference only names a variable; so the file is read as written, before any expansion.
A SOPS-encrypted file is meant to be committed: it is not warned about for being tracked, and its
encrypted values (``ENC[AES256_GCM,...]``) are not literals; a credential it left unencrypted still is.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from pybruin.config.connections import credential_fields
from pybruin.config.expand import expand_unset_to_empty
from pybruin.config.sops import ENCRYPTED_VALUE, is_encrypted
from pybruin.config.yamlfiles import PlainScalar, load_config_yaml, resolve_plain
from pybruin.errors import BruinError
from pybruin.pyyaml import yaml
from pybruin.records import Record


class LiteralCredential(Record):
    """A credential field whose value is written in the file rather than referenced as ``${VAR}``."""

    environment: str
    connection: str
    field: str


def exposure_warnings(config_path: Path) -> list[str]:
    """Warnings for a config file git tracks: that it is tracked, then one per literal credential.

    An untracked (or missing) file gets none: git-ignored, a written-out credential is the user's call.
    """
    if not is_tracked_by_git(config_path):
        return []
    document = _read(config_path)
    warnings = []
    if not is_encrypted(document):
        warnings.append(
            f"'{config_path.name}' is tracked by git, but it is where credentials live: untrack it with "
            f"'git rm --cached {config_path.name}' and git-ignore it"
        )
    for found in _literals(document):
        warnings.append(
            f"connection '{found.connection}' in environment '{found.environment}' has a literal value in "
            f"sensitive field '{found.field}' of a file tracked by git; use a ${{VARIABLE}} reference instead"
        )
    return warnings


def is_tracked_by_git(path: Path) -> bool:
    """Whether git tracks ``path``; False outside a work tree or without git."""
    git = shutil.which("git")
    if git is None or not path.parent.is_dir():
        return False
    done = subprocess.run(
        [git, "ls-files", "--error-unmatch", "--", path.name], cwd=path.parent, capture_output=True, check=False
    )
    return done.returncode == 0


def literal_credentials(config_path: Path) -> list[LiteralCredential]:
    """Every credential field of every environment whose value is written out in the file.

    A value counts as literal when something is left of it once its ``${VAR}`` references are removed;
    empty values, unquoted ``true``/``false`` (flags, not secrets) and SOPS-encrypted values do not count.
    """
    return _literals(_read(config_path))


def _read(config_path: Path) -> object:
    try:
        return load_config_yaml(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        # Only where: the loader's message may quote the text around the problem.
        raise BruinError(f"cannot read {config_path} to look for literal credentials") from None


def _literals(document: object) -> list[LiteralCredential]:
    return [
        LiteralCredential(environment, connection, field)
        for environment, connection, field, value in _credential_values(document)
        if _is_literal(value)
    ]


def _credential_values(document: object) -> Iterator[tuple[str, str, str, object]]:
    environments = document.get("environments") if isinstance(document, Mapping) else None
    if not isinstance(environments, Mapping):
        return
    for environment, settings in environments.items():
        by_type = settings.get("connections") if isinstance(settings, Mapping) else None
        if not isinstance(by_type, Mapping):
            continue
        for type_key, entries in by_type.items():
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, Mapping):
                    for field, value in credential_fields(str(type_key), entry):
                        yield str(environment), str(entry.get("name", "")), field, value


def _is_literal(value: object) -> bool:
    if isinstance(value, PlainScalar):
        value = resolve_plain(value)
    if isinstance(value, str):
        return not ENCRYPTED_VALUE.fullmatch(value) and bool(str(expand_unset_to_empty(value, {})).strip())
    return isinstance(value, int | float) and not isinstance(value, bool)
