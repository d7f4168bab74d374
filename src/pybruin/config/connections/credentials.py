"""Which strings are credentials: the forms a secret is masked in, and what key names give away.

A typed model declares its secrets; a connection without a model, and a JSON document inside a
secret (a service account), only has key names to go by. Both end up here: the forms of a secret
that must never appear in output, and the heuristics that mark a key as a credential (``api_key``,
``sasl_password``) or as a credential file (``service_account_file``, ``private_key_path``).
"""

import json
import re
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from pybruin.config.connections.fields import Role
from pybruin.config.connections.files import read_for_masking

# Key fragments that mark a credential in connections without a model, compared after lowercasing
# and dropping every character that is not a letter or digit.
_CREDENTIAL_WORDS = (
    "password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "apikey", "accountkey",
    "accesskey", "privatekey", "sessionkey", "signature", "serviceaccount", "connectionstring", "dsn",
)  # fmt: skip
# Keys ending like this name something *about* a credential (where to fetch it, what kind it is).
_NOT_CREDENTIAL_SUFFIXES = ("url", "uri", "endpoint", "type")
_FILE_SUFFIXES = ("file", "path")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")
# A connection without a model is read by an SDK we do not know: any of these in a field's name makes it a
# credential. (Where to connect — a `uri`, a `url` — is one when its value carries a login: `url_credentials`.)
_CONNECTION_WORDS = ("password", "passwd", "pwd", "passphrase", "secret", "token", "key", "credential", "signature",
                     "dsn", "connectionstring")  # fmt: skip
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def secret_forms(secret: str) -> Iterator[str]:
    """The secret, its trimmed form, and the credentials inside it when it is a JSON document.

    A service-account JSON is a secret as a whole, but the private key inside it is what a client
    library is likely to print on its own.
    """
    yield secret
    trimmed = secret.strip()
    if trimmed and trimmed != secret:
        yield trimmed
    if trimmed.startswith("{"):
        try:
            document = json.loads(trimmed)
        except ValueError:
            return
        yield from credential_strings(document)


def secret_file_forms(path: str) -> Iterator[str]:
    """The forms of a secret file's contents; nothing if it cannot be read (injecting it will fail too)."""
    contents = read_for_masking(path)
    if contents is not None:
        yield from secret_forms(contents)


def credential_strings(value: object, names: Callable[[object], bool] | None = None) -> Iterator[str]:
    """Strings (and numbers) found under credential-looking keys at any depth, and credential files' contents.

    `names` says which keys are credentials (default: :func:`names_credential`).
    """
    for _, item, role in guessed_credentials(value, "", names=names or names_credential):
        if role is Role.SECRET_FILE:
            if isinstance(item, str) and item:
                yield from secret_file_forms(item)
        elif isinstance(item, str) and item:
            yield from secret_forms(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)


def guessed_credentials(
    value: object,
    field: str,
    *,
    inside_credential: bool = False,
    names: Callable[[object], bool] | None = None,
) -> Iterator[tuple[str, object, Role]]:
    """``(field, value, role)`` of leaves under credential-looking keys (SECRET) and of credential-file keys.

    `names` says which keys are credentials (default: :func:`names_credential`).
    """
    names = names or names_credential
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{field}.{key}" if field else str(key)
            if names_credential_file(key):
                yield path, item, Role.SECRET_FILE
            else:
                inside = inside_credential or names(key)
                yield from guessed_credentials(item, path, inside_credential=inside, names=names)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from guessed_credentials(item, f"{field}[{index}]", inside_credential=inside_credential, names=names)
    elif inside_credential:
        yield field, value, Role.SECRET


def names_credential(key: object) -> bool:
    normalized = _normalized_key(key)
    if normalized.endswith(_NOT_CREDENTIAL_SUFFIXES):
        return False
    return normalized == "value" or normalized.endswith("key") or any(word in normalized for word in _CREDENTIAL_WORDS)


def names_connection_credential(key: object) -> bool:
    """A field of a connection without a model that holds a credential: broader than :func:`names_credential`,
    because nothing else knows which of its fields the SDK will authenticate with (a `mongo` `uri`, a `pin`)."""
    normalized = _normalized_key(key)
    if normalized.endswith(_NOT_CREDENTIAL_SUFFIXES):
        return False
    if names_credential(key) or any(word in normalized for word in _CONNECTION_WORDS):
        return True
    return any(word.lower().startswith("pin") and len(word) <= 7 for word in _WORDS.findall(str(key)))


def url_credentials(value: str) -> Iterator[str]:
    """For a URL with a login in it (`mongodb://etl:pw@host/db`, `https://token@host`, `...?password=pw`): the
    URL, and the password (without one, the user name, which is then a token) and credential-looking query
    parameters, as written and percent-decoded."""
    if "://" not in value or not ("@" in value or "=" in value):
        return
    try:
        parts = urlsplit(value.strip())
        login = parts.password if parts.password is not None else parts.username
    except ValueError:
        return
    secrets = [login] if login else []
    secrets += [item for key, item in parse_qsl(parts.query, keep_blank_values=False) if names_credential(key)]
    if secrets:
        yield value
        yield from dict.fromkeys(form for secret in secrets for form in (secret, unquote(secret)))


def names_credential_file(key: object) -> bool:
    """``service_account_file``, ``private_key_path``, ``key_path``: a path to a credential."""
    normalized = _normalized_key(key)
    return any(
        normalized.endswith(suffix) and names_credential(normalized.removesuffix(suffix)) for suffix in _FILE_SUFFIXES
    )


def _normalized_key(key: object) -> str:
    return _NOT_ALPHANUMERIC.sub("", str(key).lower())
