"""docs/runbook.md stays true to the code, the definitions and the manifests it describes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from activity_core.kinds.instruction.workflow import WORKFLOW_NAME
from activity_core.runs.models import RunStatus
from tests.deploy.leaks import leaks
from tests.deploy.manifests import render

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()
K8S_README = (ROOT / "k8s" / "railiance" / "README.md").read_text()


def definition_ids() -> set[str]:
    return {yaml.safe_load(p.read_text())["id"] for p in (ROOT / "definitions").glob("*.yaml")}


def shell_commands(text: str, program: str) -> list[list[str]]:
    """Every ``program ...`` command in the fenced shell blocks, continuations joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith(program + " "):
                commands.append(shlex.split(line.replace("$(date +%Y%m%dT%H%M%S)", "20260626T072000")))
    return commands


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_every_failure_class_is_explained() -> None:
    failures = {s.value for s in RunStatus if s.failed}
    assert failures == {
        "failed_output",
        "failed_llm_transport",
        "failed_llm_timeout",
        "failed_llm_provider",
        "failed_config",
        "failed_state_hub",
        # the trigger kind's: failures of the command it runs (docs/runbook.md, the ops-warden trigger)
        "failed_command_refused",
        "failed_command_error",
        "failed_command_timeout",
        "failed_command_unknown",
        "failed_command_unreachable",
        "failed_pass_in_flight",
    }
    for status in failures:
        assert re.search(rf"^\s*\| `{status}` \|", RUNBOOK, flags=re.MULTILINE), status


def test_manual_runs_name_the_real_schedule_workflow_and_queue() -> None:
    (objects,) = [render(ROOT / "k8s" / "railiance")]
    config = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    task_queue = config["ACTIVITY_CORE_TASK_QUEUE"]
    ids = definition_ids()

    temporal = shell_commands(RUNBOOK, "temporal")
    tctl = shell_commands(RUNBOOK, "tctl")
    triggers = [c for c in temporal if c[1:3] == ["schedule", "trigger"]]
    assert triggers and all(option(c, "--schedule-id") in ids for c in triggers)
    old_triggers = [c for c in tctl if c[1:3] == ["schedule", "trigger"]]
    assert old_triggers and all(option(c, "--sid") in ids for c in old_triggers)  # tctl 1.17: --sid

    starts = [c for c in temporal if c[1:3] == ["workflow", "start"]]
    old_starts = [c for c in tctl if c[1:3] == ["workflow", "start"]]
    assert starts and old_starts
    for argv, flags in (
        *((c, ("--type", "--task-queue", "--workflow-id")) for c in starts),
        *((c, ("--workflow_type", "--taskqueue", "--workflow_id")) for c in old_starts),
    ):
        workflow_type, queue, workflow_id = (option(argv, f) for f in flags)
        assert workflow_type == WORKFLOW_NAME
        assert queue == task_queue
        assert workflow_id.startswith("manual-") and workflow_id.endswith("20260626T072000")
        payload = json.loads(option(argv, "--input"))
        assert payload["definition_id"] in ids
        assert payload.get("trigger") == "manual"


def test_pausing_takes_a_reason() -> None:
    toggles = [c for c in shell_commands(RUNBOOK, "temporal") if c[1:3] == ["schedule", "toggle"]]
    pause = [c for c in toggles if "--pause" in c]
    assert pause and all(option(c, "--reason").strip() for c in pause)
    assert all(option(c, "--schedule-id") in definition_ids() for c in toggles)
    assert "tctl schedule toggle --sid" in RUNBOOK


@pytest.mark.parametrize("text", [RUNBOOK, K8S_README], ids=["runbook", "k8s-readme"])
def test_the_deploy_order_is_config_migrate_sync_worker(text: str) -> None:
    stages = [f"-l app.kubernetes.io/component={s}" for s in ("config", "migrate", "schedule-sync", "worker")]
    positions = [text.index(stage) for stage in stages]
    assert positions == sorted(positions)
    # each Job is awaited before the next stage starts
    assert positions[1] < text.index("wait --for=condition=complete job/activity-core-migrate") < positions[2]
    assert positions[2] < text.index("wait --for=condition=complete job/activity-core-schedule-sync") < positions[3]


def test_the_runbook_creates_the_secret_between_config_and_migrate() -> None:
    config = RUNBOOK.index("-l app.kubernetes.io/component=config")
    secret = RUNBOOK.index("create secret generic activity-core-secrets", config)
    assert secret < RUNBOOK.index("-l app.kubernetes.io/component=migrate", config)
    order = RUNBOOK[RUNBOOK.index("### Order") : RUNBOOK.index("### First time")]
    assert [
        order.index(w) for w in ("**config**", "**Secret**", "**migrate Job**", "**schedule-sync Job**", "**worker**")
    ] == sorted(
        order.index(w) for w in ("**config**", "**Secret**", "**migrate Job**", "**schedule-sync Job**", "**worker**")
    )


def test_the_operator_surfaces_are_all_covered() -> None:
    for needle in (
        "activity-core runs show",
        "temporal workflow show",
        "tctl workflow show",
        "rollout undo",
        "kubectl -n activity-core scale deployment/activity-core-worker",
        "no ingress",
        "Rolling back",
        "Migrations are forward-only",
    ):
        assert needle in RUNBOOK, needle


def test_the_docs_hold_no_secret_values() -> None:
    assert leaks(RUNBOOK) == []
    assert leaks(K8S_README) == []
