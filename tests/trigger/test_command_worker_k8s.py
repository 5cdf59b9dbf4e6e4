"""k8s/ops-warden-command-worker: valid, locked down, and in step with the trigger definition it
serves (task queue, allow-list, secret names) and with ADR-006."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from activity_core.cli import build_parser
from activity_core.kinds.trigger.spec import CommandSpec
from activity_core.settings import PROJECT_ROOT, Settings
from tests.deploy.leaks import leaks
from tests.deploy.manifests import pod_spec, render
from tests.trigger.conftest import SHIPPED_DEFINITION

BASE = PROJECT_ROOT / "k8s" / "ops-warden-command-worker"


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(BASE)


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = pod_spec(_one(objects, "Deployment"))["containers"]
    return container


def test_the_base_renders_into_ops_wardens_namespace(objects) -> None:
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("NetworkPolicy", "ops-warden-command-worker"),
        ("ConfigMap", "ops-warden-command-worker"),
        ("ServiceAccount", "ops-warden-command-worker"),
        ("Deployment", "ops-warden-command-worker"),
    ]
    assert {o["metadata"]["namespace"] for o in objects} == {"ops-warden"}
    for obj in objects:
        kubernetes_validate.validate(obj, "1.32", strict=True)


def test_the_python_renderer_agrees_with_kubectl_kustomize(objects) -> None:
    result = subprocess.run(["kubectl", "kustomize", str(BASE)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert [d for d in yaml.safe_load_all(result.stdout) if d] == objects


def test_no_token_restricted_context_and_an_init_that_reaps(objects) -> None:
    assert _one(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    spec = pod_spec(_one(objects, "Deployment"))
    assert spec["automountServiceAccountToken"] is False and spec["shareProcessNamespace"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True
    context = _container(objects)["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"] and context["seccompProfile"]["type"] == "RuntimeDefault"


def test_the_network_policy_admits_nothing_and_lets_out_temporal_and_the_commands_own_services(objects) -> None:
    policy = _one(objects, "NetworkPolicy")["spec"]
    assert policy["ingress"] == [] and sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    destinations = sorted(
        (
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            tuple(sorted((peer.get("podSelector") or {}).get("matchLabels", {}).items())),
            tuple(sorted(p["port"] for p in rule["ports"])),
        )
        for rule in policy["egress"]
        for peer in rule["to"]
    )
    assert destinations == [
        ("activity-core", (("app.kubernetes.io/name", "llm-connect"),), (8080,)),
        ("kube-system", (("k8s-app", "kube-dns"),), (53, 53)),
        ("state-hub", (), (8080,)),
        ("temporal", (), (7233,)),
    ]
    assert _one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"].items() >= (
        policy["podSelector"]["matchLabels"].items()
    )


def test_the_arguments_parse_and_serve_the_shipped_definition(objects) -> None:
    container = _container(objects)
    assert container["command"] == ["activity-core"]
    args = build_parser().parse_args(container["args"])
    definition = yaml.safe_load(SHIPPED_DEFINITION.read_text())
    command = CommandSpec.model_validate(definition["command"])
    assert args.task_queue == command.task_queue
    assert any(command.full_argv()[: len(shlex.split(p))] == shlex.split(p) for p in args.allow)
    assert args.dry_run_only, "the example ships at the first stage of the rollout"
    secret_env = {e["name"] for e in container["env"] if "secretKeyRef" in (e.get("valueFrom") or {})}
    assert set(args.secret_env) == secret_env == {"STATE_HUB_TOKEN"}
    assert args.health_port == container["ports"][0]["containerPort"]


def test_the_configmap_feeds_the_settings_the_command_worker_reads_and_the_drain_fits(objects) -> None:
    data = _one(objects, "ConfigMap")["data"]
    read = {
        (f.validation_alias if isinstance(f.validation_alias, str) else n).upper()
        for n, f in Settings.model_fields.items()
    }
    command_own = {"STATE_HUB_URL", "LLM_CONNECT_URL"}  # the command's (warden's) own addresses
    assert set(data) - command_own <= read
    command = CommandSpec.model_validate(yaml.safe_load(SHIPPED_DEFINITION.read_text())["command"])
    drain = float(data["ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS"])
    assert drain >= command.time_budget_seconds + command.kill_grace_seconds
    assert pod_spec(_one(objects, "Deployment"))["terminationGracePeriodSeconds"] > drain + 10


def test_no_secret_values_in_the_base() -> None:
    for path in sorted(Path(BASE).iterdir()):
        assert leaks(path.read_text()) == [], path.name
