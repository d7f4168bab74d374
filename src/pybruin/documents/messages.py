"""The small envelopes every command shares: an error, and a success with its message."""

from __future__ import annotations

from pybruin.documents.encoding import document


@document
class ErrorDocument:
    """What a command asked for JSON prints on stdout when it fails (exit 1)."""

    error: str


@document
class StatusDocument:
    """A command's success, for commands whose only answer is that it worked."""

    status: str
    message: str


@document
class TestedDocument:
    """`connections test -o json` on success."""

    status: str = "success"
