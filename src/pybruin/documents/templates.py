"""`bruin internal list-templates -o json`."""

from __future__ import annotations

from pybruin.documents.encoding import document


@document
class TemplatesDocument:
    """The templates `bruin init` can create, sorted, and how many there are."""

    templates: list[str]
    count: int
