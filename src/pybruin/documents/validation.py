"""`bruin validate -o json`: one element per pipeline, issues by asset name (`_pipeline` for the rest)."""

from __future__ import annotations

from pybruin.documents.encoding import document


@document
class IssueDocument:
    asset: str
    description: str
    context: list[str]
    #: `critical` or `warning`.
    severity: str


@document
class PipelineIssues:
    """A pipeline's issues by asset name; `issues` is `{}` when the pipeline is clean."""

    pipeline: str
    issues: dict[str, list[IssueDocument]]


ValidationDocument = list[PipelineIssues]
