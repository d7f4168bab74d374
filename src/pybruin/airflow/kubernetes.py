"""Kubernetes mode: each plan task is a pod running `bruin airflow-task SPEC` in the asset's image.

The pod's environment holds only the DAG's settings (such as `BRUIN_SECRETS_BACKEND=vault` and
`BRUIN_VAULT_ROLE`); its credentials come from the cluster (a service account for Vault's Kubernetes auth,
secrets mounted with `env_from` in `pod_options`), never from the DAG. The asset's `instance` becomes the
container's resource requests. The worker writes the task's name and status to KubernetesPodOperator's
XCom file, so XCom holds no more than in local mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pybruin.airflow.layout import TaskLayout

#: Where KubernetesPodOperator's sidecar reads a pod's XCom from.
XCOM_FILE = "/airflow/xcom/return.json"


def pod_operator(task: TaskLayout, env: Mapping[str, str], common: Mapping[str, Any], pod_options: Mapping[str, Any]):
    """A KubernetesPodOperator for `task`; `pod_options` (namespace, service account, volumes, ...) win."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s

    options: dict[str, Any] = {
        "name": task.task_id,
        "image": task.image,
        "cmds": ["bruin"],
        "arguments": ["airflow-task", "--result", XCOM_FILE, task.spec],
        "env_vars": dict(env),
        "container_resources": k8s.V1ResourceRequirements(requests=dict(task.resources or {})),
        "do_xcom_push": True,
        "get_logs": True,
        "on_finish_action": "delete_pod",
    }
    options.update(pod_options)
    return KubernetesPodOperator(**common, **options)
