"""Pipelines and their assets: `pipeline.yml`, asset headers, the defaults merge, the DAG and validation.

Names are imported on first use (PEP 562): `bruin internal parse-pipeline` needs the loader only.
"""

from importlib import import_module

_EXPORTS = {
    "Asset": "model",
    "Dependency": "model",
    "Pipeline": "model",
    "SecretMapping": "model",
    "Issue": "validate",
    "validate_pipeline": "validate",
    "downstream_of": "dag",
    "find_cycles": "dag",
    "topological_order": "dag",
    "upstreams": "dag",
    "find_pipeline_dirs": "loader",
    "load_pipeline": "loader",
    "pipeline_dir_for_asset": "loader",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pybruin.pipeline' has no attribute {name!r}")
    return getattr(import_module(f"pybruin.pipeline.{module}"), name)
