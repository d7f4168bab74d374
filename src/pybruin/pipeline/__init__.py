"""Pipelines and their assets: `pipeline.yml`, asset headers, the defaults merge, the DAG and validation."""

from pybruin.pipeline.dag import downstream_of, find_cycles, topological_order, upstreams
from pybruin.pipeline.loader import find_pipeline_dirs, load_pipeline, pipeline_dir_for_asset
from pybruin.pipeline.model import Asset, Dependency, Pipeline, SecretMapping
from pybruin.pipeline.validate import Issue, validate_pipeline

__all__ = [
    "Asset",
    "Dependency",
    "Issue",
    "Pipeline",
    "SecretMapping",
    "downstream_of",
    "find_cycles",
    "find_pipeline_dirs",
    "load_pipeline",
    "pipeline_dir_for_asset",
    "topological_order",
    "upstreams",
    "validate_pipeline",
]
