"""k8s/railiance as the cluster gets it: rendered by the real kustomize (``kubectl kustomize``).

kubectl is on the machines (with kustomize v5.5 built in); without it these tests fail,
naming the fix, rather than checking a stand-in renderer.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize directory`` emits, in its order."""
    kubectl = shutil.which("kubectl") or pytest.fail(
        "kubectl is not on PATH: the manifests are rendered with `kubectl kustomize` (kubectl >= 1.27 has kustomize 5)"
    )
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RenderError(done.stderr.strip())
    return [document for document in yaml.safe_load_all(done.stdout) if document]


class RenderError(Exception):
    """kustomize refused the kustomization; the message is its own."""


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in POD_TEMPLATE_KINDS:
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] == "Pod":
        return obj["spec"]
    return None
