"""`bruin version -o json`."""

from __future__ import annotations

from pybruin.documents.encoding import document


@document
class VersionDocument:
    """pybruin's version, the commit it was built from (`""` when unknown) and the latest release known."""

    version: str
    commit: str
    latest: str
