"""The worker's own probe wiring (``create_worker``, the kinds' activities) checks issue-core
once ISSUE_CORE_URL is configured: through the sink's client under a non-null ceiling, through
a health-only client under null; the issue-core emulator up, then answering 503."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import yaml
from temporalio.client import Client

from activity_core.kinds.probe.workflow import ProbeRun
from activity_core.runs.models import RunInput, RunSummary
from activity_core.temporal.awaiting import await_run
from tests.fixtures.runtime import harness_for, stack_settings, write_test_definition
from tests.probe.conftest import SHIPPED_DEFINITION

pytestmark = pytest.mark.integration
ISSUE_CORE_ONLY = [{"name": "issue-core", "check": "issue_core_health", "timeout_seconds": 5, "optional": True}]


def _write_probe(definitions_dir) -> str:
    definition_id = f"probe-{uuid.uuid4().hex[:10]}"
    data = {**yaml.safe_load(SHIPPED_DEFINITION.read_text()), "id": definition_id, "targets": ISSUE_CORE_ONLY}
    (definitions_dir / f"{definition_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return definition_id


async def _probe_once(client: Client, task_queue: str, definition_id: str) -> RunSummary:
    handle = await client.start_workflow(
        ProbeRun.run,
        RunInput(definition_id=definition_id),
        id=f"manual-{definition_id}-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
        execution_timeout=timedelta(minutes=2),
    )
    return await await_run(handle)


def _issue_core_target(state_hub, workflow_id_prefix: str) -> dict:
    (event,) = [e for e in state_hub.progress_events() if e["idempotency_key"].startswith(workflow_id_prefix)]
    (target,) = event["payload"]["targets"]
    return target


@pytest.mark.parametrize("ceiling", ["null", "rest"])
async def test_the_worker_checks_issue_core_once_its_url_is_configured(
    temporal_client: Client, make_settings, definition_id: str, state_hub, llm_connect, issue_core, ceiling: str
) -> None:
    settings = make_settings(issue_sink_type=ceiling)
    probe_id = _write_probe(settings.definitions_dir)
    async with harness_for(
        temporal_client, settings, definition_id, state_hub, llm_connect, issue_core=issue_core
    ) as harness:
        assert (harness.deps.issue_core is None) == (ceiling == "null")  # null: no client that can create

        up = await _probe_once(temporal_client, settings.task_queue, probe_id)
        assert up.status == "clean", up.error_message
        assert _issue_core_target(state_hub, f"manual-{probe_id}-")["status"] == "up"

        issue_core.queue_faults("health", "http_503", "http_503")
        down = await _probe_once(temporal_client, settings.task_queue, probe_id)
        assert down.status == "partial" and down.error_message == "down: issue-core"
    targets = [
        t
        for e in state_hub.progress_events()
        if e["idempotency_key"].startswith(f"manual-{probe_id}-")
        for t in e["payload"]["targets"]
    ]
    assert [t["status"] for t in targets] == ["up", "down"]
    assert "503" in (targets[1]["error"] or ""), targets[1]
    assert issue_core.token not in str(targets)


async def test_without_issue_core_url_the_target_is_skipped(
    temporal_client: Client, tmp_path, temporal_address: str, fresh_database: str, state_hub, llm_connect
) -> None:
    definitions_dir = tmp_path / "definitions"
    write_test_definition(definitions_dir, "unused")
    probe_id = _write_probe(definitions_dir)
    settings = stack_settings(
        temporal_address=temporal_address,
        database_url=fresh_database,
        state_hub=state_hub,
        llm_connect=llm_connect,
        definitions_dir=definitions_dir,
        definition_id=probe_id,
        data_dir=tmp_path / "data",
    )
    async with harness_for(temporal_client, settings, "unused", state_hub, llm_connect):
        summary = await _probe_once(temporal_client, settings.task_queue, probe_id)
    assert summary.status == "clean", summary.error_message
    assert _issue_core_target(state_hub, f"manual-{probe_id}-")["status"] == "skipped"
