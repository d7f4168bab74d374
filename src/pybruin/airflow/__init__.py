"""Airflow integration (extra `airflow`): a pipeline as a DAG with one task per plan task.

    from pybruin.airflow import bruin_dag

    dag = bruin_dag("/opt/project/pipelines/daily", secrets_backend="vault")

Parsing the DAG file reads the pipeline only (no `.bruin.yml`, no store); each task resolves its own
asset's secrets in the worker. See docs/airflow.md.
"""

from pybruin.airflow.dag import bruin_dag

__all__ = ["bruin_dag"]
