"""A small offline kustomize renderer for the fields k8s/railiance uses.

It implements ``resources`` (files and nested kustomization directories), ``namespace``,
``labels`` (with ``includeSelectors`` / ``includeTemplates``), ``commonLabels``, ``images``
and ``sortOptions`` (``fifo`` and ``legacy``), and refuses any other field rather than
silently rendering something kustomize would not. When ``kubectl`` is installed a test
compares this renderer's output with ``kubectl kustomize``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "commonLabels",
    "images",
    "sortOptions",
}

CLUSTER_SCOPED_KINDS = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "IngressClass",
    "RuntimeClass",
}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# kustomize's "legacy" order: these kinds first, in this order; these last; the rest between.
_LEGACY_FIRST = [
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
    "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass",
    "PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob",
    "PodDisruptionBudget",
]
_LEGACY_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


class KustomizeError(Exception):
    pass


def find_kustomization(directory: Path) -> Path:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise KustomizeError(f"no kustomization file in {directory}")


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kustomize build directory`` would emit, in its order."""
    directory = directory.resolve()
    kustomization = yaml.safe_load(find_kustomization(directory).read_text()) or {}
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")

    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects.extend(render(path))
        elif path.is_file():
            if directory not in path.parents:
                raise KustomizeError(f"{entry}: files outside the kustomization root are refused")
            objects.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
        else:
            raise KustomizeError(f"{directory}: resource {entry} does not exist")

    seen: set[tuple[str, str, str | None, str]] = set()
    for obj in objects:
        namespace = kustomization.get("namespace")
        if namespace and obj["kind"] not in CLUSTER_SCOPED_KINDS:
            obj.setdefault("metadata", {})["namespace"] = namespace
        for pairs, selectors, templates in _label_rules(kustomization):
            _apply_labels(obj, pairs, include_selectors=selectors, include_templates=templates)
        for image in kustomization.get("images", []):
            _apply_image(obj, image)
        key = (obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key in seen:
            raise KustomizeError(f"duplicate object {key}")
        seen.add(key)

    order = (kustomization.get("sortOptions") or {}).get("order", "legacy")
    if order == "legacy":
        objects = sorted(objects, key=_legacy_key)
    elif order != "fifo":
        raise KustomizeError(f"unsupported sortOptions.order {order!r}")
    return objects


def _label_rules(kustomization: dict[str, Any]) -> list[tuple[dict[str, str], bool, bool]]:
    rules = []
    if kustomization.get("commonLabels"):
        rules.append((kustomization["commonLabels"], True, True))
    for entry in kustomization.get("labels", []):
        unknown = set(entry) - {"pairs", "includeSelectors", "includeTemplates"}
        if unknown:
            raise KustomizeError(f"unsupported labels options {sorted(unknown)}")
        selectors = bool(entry.get("includeSelectors", False))
        rules.append((entry["pairs"], selectors, selectors or bool(entry.get("includeTemplates", False))))
    return rules


def _apply_labels(obj: dict[str, Any], pairs: dict[str, str], *, include_selectors: bool, include_templates: bool) -> None:
    obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    spec = obj.get("spec") or {}
    if obj["kind"] in POD_TEMPLATE_KINDS:
        if include_templates and "template" in spec:
            spec["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if include_selectors and obj["kind"] != "Job":
            spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)
    elif obj["kind"] == "Service" and include_selectors:
        spec.setdefault("selector", {}).update(pairs)
    elif obj["kind"] == "PodDisruptionBudget" and include_selectors:
        spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in POD_TEMPLATE_KINDS:
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] == "Pod":
        return obj["spec"]
    return None


def _image_name(reference: str) -> str:
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


def _apply_image(obj: dict[str, Any], image: dict[str, Any]) -> None:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        if _image_name(container.get("image", "")) != image["name"]:
            continue
        name = image.get("newName", image["name"])
        if "digest" in image:
            container["image"] = f"{name}@{image['digest']}"
        elif "newTag" in image:
            container["image"] = f"{name}:{image['newTag']}"
        else:
            current = container["image"]
            container["image"] = name + current[len(_image_name(current)) :]


def _legacy_key(obj: dict[str, Any]) -> tuple[int, str, str, str]:
    kind = obj["kind"]
    if kind in _LEGACY_FIRST:
        rank = _LEGACY_FIRST.index(kind)
    elif kind in _LEGACY_LAST:
        rank = 1000 + _LEGACY_LAST.index(kind)
    else:
        rank = 500
    meta = obj.get("metadata", {})
    return (rank, kind, meta.get("namespace", ""), meta.get("name", ""))
