"""Reading a secret file (a key file, a service account): the only file access connections make.

A connection's models hold a secret file's *path*; its contents are read when they are needed, by
the two callers that need them: injection, which must fail with a clear error naming the file,
and masking, for which an unreadable file holds nothing to mask (the run reports it when it tries
to inject it).
"""

from pathlib import Path

from pybruin.errors import BruinError


def read_for_injection(connection: str, field: str, path: str) -> str:
    """The file's text, or a :class:`BruinError` naming the connection, field and path (never the contents)."""
    try:
        return _read_text(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    raise BruinError(f"connection '{connection}': cannot read {field} '{path}': {reason}")


def read_for_masking(path: str) -> str | None:
    """The file's text, or ``None`` when it cannot be read."""
    try:
        return _read_text(path)
    except (OSError, UnicodeDecodeError):
        return None


def _read_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")
