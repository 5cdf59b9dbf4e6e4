"""The ops inventory probe end to end on real Temporal and PostgreSQL, the emulators over HTTP:
targets up, down, slow and answering garbage."""

from __future__ import annotations

import json

import pytest
from temporalio.client import Client

from activity_core.devstack.embedded import free_port
from activity_core.observability.logging import register_secret
from tests.fixtures.emulators import STATE_HUB_TOKEN
from tests.probe.conftest import ProbeHarness, dead_url

pytestmark = pytest.mark.integration

PLANTED_PASSWORD = "pg-PLANTED-3e8b1d6f0a"


def by_name(outcome) -> dict:
    return {target.name: target for target in outcome.result.targets}


async def test_everything_up_is_clean_and_posts_one_event_with_every_target(probe: ProbeHarness) -> None:
    outcome, handle = await probe.run(probe.define())

    assert outcome.status == "clean", outcome.summary
    targets = by_name(outcome)
    assert set(targets) == {
        "llm-connect",
        "llm-connect-triage-smoke",
        "state-hub",
        "issue-core",
        "temporal",
        "postgres",
    }
    for name in ("llm-connect", "llm-connect-triage-smoke", "state-hub", "temporal", "postgres"):
        assert targets[name].status == "up" and targets[name].latency_ms is not None, targets[name]
    assert targets["issue-core"].status == "skipped"  # optional, not configured on this worker
    smoke = targets["llm-connect-triage-smoke"].details
    assert smoke["passed"] and smoke["boundary_status"] == "clean" and smoke["items_kept"] >= 1
    assert smoke["budget_seconds"] == 30 and 0 <= smoke["budget_used"] < 1
    (event,) = probe.events(handle.id)
    assert event["event_type"] == "ops_inventory_probe"
    assert event["payload"]["down"] == [] and event["payload"]["skipped"] == ["issue-core"]
    assert {t["name"]: t["status"] for t in event["payload"]["targets"]}["postgres"] == "up"
    assert event["summary"] == "ops inventory probe: 5 up, 0 down, 1 skipped"
    (execute,) = probe.llm_connect.requests("execute")
    assert execute.headers["x-request-id"] == f"{handle.id}/{(await handle.describe()).run_id}"
    assert execute.headers["x-activity-source"] == "activity-core/smoke/daily-statehub-wsjf-triage"


async def test_an_unreachable_llm_connect_makes_the_run_partial_and_names_it(probe: ProbeHarness) -> None:
    outcome, handle = await probe.run(probe.define(), llm_url=dead_url())
    assert outcome.status == "partial"
    assert outcome.error_message == "down: llm-connect, llm-connect-triage-smoke"
    targets = by_name(outcome)
    assert "ConnectError" in targets["llm-connect"].error
    assert targets["llm-connect-triage-smoke"].details["failure"] == "transport"
    assert targets["state-hub"].status == "up"
    (event,) = probe.events(handle.id)
    assert event["payload"]["down"] == ["llm-connect", "llm-connect-triage-smoke"]
    assert "llm-connect: " in event["summary"]


@pytest.mark.parametrize(
    ("fault", "timeout", "error"),
    [
        ("http_500", 5, "answered 500"),
        ("slow:3", 1, "no answer within 1 s"),
        ("not_json_200", 5, "body is not JSON"),
        ("drop_connection", 5, "StateHubTransportError"),
    ],
)
async def test_state_hub_down_slow_or_garbage_is_down_never_a_crash(
    probe: ProbeHarness, fault: str, timeout: float, error: str
) -> None:
    probe.state_hub.queue_faults("health", fault)
    definition_id = probe.define([{"name": "state-hub", "check": "state_hub_health", "timeout_seconds": timeout}])
    outcome, handle = await probe.run(definition_id)
    assert outcome.status == "partial" and outcome.error_message == "down: state-hub"
    (target,) = outcome.result.targets
    assert target.status == "down" and error in target.error
    assert len(probe.events(handle.id)) == 1  # the evidence went out all the same


async def test_postgres_down_is_named_in_the_event_and_no_secret_leaks(probe: ProbeHarness) -> None:
    dsn = f"postgresql://probe:{PLANTED_PASSWORD}@127.0.0.1:{free_port()}/activity"
    register_secret(dsn)
    register_secret(PLANTED_PASSWORD)
    outcome, handle = await probe.run(probe.define(), database_dsn=dsn)

    assert outcome.status == "partial" and outcome.error_message == "down: postgres"
    assert by_name(outcome)["postgres"].error
    (event,) = probe.events(handle.id)
    assert event["payload"]["down"] == ["postgres"]
    for text in (json.dumps(event), outcome.summary, json.dumps(outcome.payload)):
        assert PLANTED_PASSWORD not in text and STATE_HUB_TOKEN not in text


async def test_an_unreachable_temporal_frontend_is_down(probe: ProbeHarness) -> None:
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    definition_id = probe.define([{"name": "temporal", "check": "temporal_frontend", "timeout_seconds": 3}])
    outcome, _ = await probe.run(definition_id, temporal=dead)
    (target,) = outcome.result.targets
    assert outcome.status == "partial" and target.status == "down" and target.error


async def test_issue_core_is_checked_once_configured(probe: ProbeHarness) -> None:
    async def issue_core_refusing() -> None:
        raise ConnectionRefusedError("issue-core GET /health: connection refused")

    outcome, _ = await probe.run(probe.define(), issue_core=issue_core_refusing)
    assert outcome.error_message == "down: issue-core"
    assert by_name(outcome)["issue-core"].error == "ConnectionRefusedError: issue-core GET /health: connection refused"


async def test_a_required_target_without_an_address_is_down(probe: ProbeHarness) -> None:
    definition_id = probe.define([{"name": "issue-core", "check": "issue_core_health", "timeout_seconds": 5}])
    outcome, _ = await probe.run(definition_id)
    (target,) = outcome.result.targets
    assert target.status == "down" and "not configured on this worker" in target.error


@pytest.mark.parametrize(
    ("fault", "failure"),
    [("garbage", "answer_shape"), ("configuration_error", "configuration"), ("provider_error", "provider")],
)
async def test_the_deep_check_names_what_failed(probe: ProbeHarness, fault: str, failure: str) -> None:
    probe.llm_connect.queue_faults("execute", fault)
    definition_id = probe.define(
        [{"name": "llm-connect-triage-smoke", "check": "llm_connect_smoke", "timeout_seconds": 30}]
    )
    outcome, handle = await probe.run(definition_id)
    (target,) = outcome.result.targets
    assert outcome.status == "partial" and target.status == "down"
    assert target.details["failure"] == failure and target.error.startswith(f"{failure}: ")
    (event,) = probe.events(handle.id)
    assert event["payload"]["targets"][0]["details"]["failure"] == failure


async def test_a_definition_that_cannot_be_loaded_ends_failed_config_with_its_row(probe: ProbeHarness) -> None:
    outcome, handle = await probe.run("probe-not-there")
    assert outcome.status == "failed_config" and outcome.record.status == "failed_config"
    assert "no definition 'probe-not-there'" in (outcome.error_message or "")
    assert outcome.result is None and probe.events(handle.id) == []  # nothing was checked: nothing to report
