"""StateHubClient over real HTTP against the State Hub emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activity_core.clients import (
    Note,
    ProgressEvent,
    StateHubAuthError,
    StateHubClient,
    StateHubContractError,
    StateHubHTTPError,
    StateHubTimeout,
    StateHubTransportError,
)
from activity_core.devstack.embedded import free_port
from activity_core.devstack.state_hub_emulator import StateHubEmulator, seed_planning_state

OPEN_TASK_STATUSES = ("todo", "wait", "blocked", "active")


def triage_event(key: str = "daily-triage/2026-06-27/run-1", **overrides: object) -> ProgressEvent:
    fields: dict[str, object] = {
        "event_type": "daily_triage",
        "summary": "7 recommendations",
        "idempotency_key": key,
        "payload": {"status": "clean", "item_count": 7},
    }
    return ProgressEvent(**(fields | overrides))


async def test_health(hub: StateHubClient) -> None:
    await hub.health()


async def test_list_workstreams_filters_by_status_and_sends_the_token(
    hub: StateHubClient, state_hub: StateHubEmulator, state_hub_token: str
) -> None:
    seeded, _ = seed_planning_state()

    active = await hub.list_workstreams(["active"])
    active_or_blocked = await hub.list_workstreams(["active", "blocked"])

    assert {w.id for w in active} == {w["id"] for w in seeded if w["status"] == "active"}
    assert {w.status for w in active_or_blocked} == {"active", "blocked"}
    assert len(active_or_blocked) == sum(w["status"] in ("active", "blocked") for w in seeded)
    assert all(isinstance(w.id, str) and w.slug and w.planning_order for w in active)
    sent = state_hub.requests("workstreams")
    assert [r.query["status"] for r in sent] == ["active", "active,blocked"]
    assert sent[0].headers["authorization"] == f"Bearer {state_hub_token}"


async def test_list_tasks_returns_the_open_tasks(hub: StateHubClient) -> None:
    _, seeded = seed_planning_state()

    tasks = await hub.list_tasks(OPEN_TASK_STATUSES)

    assert {t.id for t in tasks} == {t["id"] for t in seeded if t["status"] in OPEN_TASK_STATUSES}
    assert all(t.key.count("-T") == 1 and t.workstream_id for t in tasks)


async def test_a_bare_string_of_statuses_is_refused(hub: StateHubClient) -> None:
    with pytest.raises(TypeError):
        await hub.list_tasks("active")


async def test_post_progress_stores_the_event_and_returns_its_id(
    hub: StateHubClient, state_hub: StateHubEmulator
) -> None:
    event_id = await hub.post_progress(triage_event())

    [stored] = state_hub.progress_events()
    assert stored["id"] == event_id
    assert stored["event_type"] == "daily_triage"
    assert stored["source"] == "activity-core"
    assert stored["workstream_id"] is None
    assert stored["payload"] == {"status": "clean", "item_count": 7}


async def test_a_repeated_idempotency_key_returns_the_first_event(
    hub: StateHubClient, state_hub: StateHubEmulator
) -> None:
    first = await hub.post_progress(triage_event(summary="first"))
    again = await hub.post_progress(triage_event(summary="second"))
    other = await hub.post_progress(triage_event(key="daily-triage/2026-06-27/run-2"))

    assert again == first
    assert other != first
    assert [e["summary"] for e in state_hub.progress_events()] == ["first", "7 recommendations"]


async def test_a_lost_response_then_a_retry_leaves_one_event(hub: StateHubClient, state_hub: StateHubEmulator) -> None:
    state_hub.queue_faults("progress", "apply_then_500")

    with pytest.raises(StateHubHTTPError) as lost:
        await hub.post_progress(triage_event())
    retried = await hub.post_progress(triage_event())

    assert lost.value.status_code == 500 and lost.value.retryable
    assert [e["id"] for e in state_hub.progress_events()] == [retried]


async def test_faults_are_consumed_one_per_request_in_order(hub: StateHubClient, state_hub: StateHubEmulator) -> None:
    state_hub.queue_faults("progress", "http_503", "http_502")

    statuses = []
    for _ in range(2):
        with pytest.raises(StateHubHTTPError) as failed:
            await hub.post_progress(triage_event())
        statuses.append(failed.value.status_code)
    await hub.list_workstreams(["active"])  # faults are per route: this one has none
    event_id = await hub.post_progress(triage_event())

    assert statuses == [503, 502]
    assert [e["id"] for e in state_hub.progress_events()] == [event_id]


async def test_write_note_replaces_the_note_under_the_same_key(
    hub: StateHubClient, state_hub: StateHubEmulator
) -> None:
    key = "daily-triage-2026-06-27"
    first = await hub.write_note(Note(key=key, title="v1", body_markdown="one", tags=["daily-triage"]))
    [before] = await hub.list_notes("daily-triage-")
    second = await hub.write_note(Note(key=key, title="v2", body_markdown="two"))
    [after] = await hub.list_notes("daily-triage-")

    assert second == first == after.id
    assert after.updated_at > before.updated_at
    [stored] = state_hub.notes()
    assert (stored["title"], stored["body_markdown"]) == ("v2", "two")


async def test_list_notes_filters_by_prefix(hub: StateHubClient) -> None:
    for key in ("daily-triage-2026-06-26", "daily-triage-2026-06-27", "ops-inventory-2026-06-27"):
        await hub.write_note(Note(key=key, title=key, body_markdown="..."))

    notes = await hub.list_notes("daily-triage-")

    assert [n.key for n in notes] == ["daily-triage-2026-06-26", "daily-triage-2026-06-27"]


async def test_list_progress_filters_by_type_and_since(hub: StateHubClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    triage = await hub.post_progress(triage_event())
    await hub.post_progress(triage_event(key="calibration-1", event_type="daily_triage_calibration"))

    recent = await hub.list_progress("daily_triage", since=before)
    future = await hub.list_progress("daily_triage", since=datetime.now(UTC) + timedelta(hours=1))

    assert [(e.id, e.event_type, e.idempotency_key) for e in recent] == [
        (triage, "daily_triage", "daily-triage/2026-06-27/run-1")
    ]
    assert recent[0].created_at >= before
    assert future == []


async def test_deleted_evidence_is_gone_from_the_read_back(hub: StateHubClient, state_hub: StateHubEmulator) -> None:
    event_id = await hub.post_progress(triage_event())
    await hub.write_note(Note(key="daily-triage-2026-06-27", title="t", body_markdown="b"))

    assert state_hub.delete_progress_event(event_id)
    assert state_hub.delete_note("daily-triage-2026-06-27")

    assert await hub.list_progress("daily_triage") == []
    assert await hub.list_notes("daily-triage-") == []


@pytest.mark.parametrize("token", [None, "sh-wrong-token"])
async def test_a_missing_or_wrong_token_is_an_auth_error(state_hub: StateHubEmulator, token: str | None) -> None:
    async with StateHubClient(state_hub.url, token=token, timeout_seconds=5) as client:
        with pytest.raises(StateHubAuthError) as failed:
            await client.list_tasks(OPEN_TASK_STATUSES)

    assert failed.value.status_code == 401
    assert not failed.value.retryable
    assert failed.value.failure_class == "failed_state_hub"
    assert "GET /api/tasks answered 401" in str(failed.value)
    assert state_hub.requests("tasks")


async def test_an_invalid_body_is_a_non_retryable_http_error(hub: StateHubClient) -> None:
    with pytest.raises(StateHubHTTPError) as failed:
        await hub.post_progress(triage_event(key=""))

    assert failed.value.status_code == 422
    assert not failed.value.retryable
    assert "idempotency_key must not be empty" in str(failed.value)


async def test_a_slow_answer_is_a_timeout(state_hub: StateHubEmulator, state_hub_token: str) -> None:
    state_hub.queue_faults("workstreams", "slow:2")

    async with StateHubClient(state_hub.url, token=state_hub_token, timeout_seconds=0.2) as client:
        with pytest.raises(StateHubTimeout) as failed:
            await client.list_workstreams(["active"])

    assert failed.value.retryable
    assert failed.value.failure_class == "failed_state_hub"


async def test_a_dropped_connection_is_a_transport_error(hub: StateHubClient, state_hub: StateHubEmulator) -> None:
    state_hub.queue_faults("notes", "drop_connection")

    with pytest.raises(StateHubTransportError) as failed:
        await hub.write_note(Note(key="daily-triage-2026-06-27", title="t", body_markdown="b"))

    assert failed.value.retryable


async def test_connection_refused_is_a_transport_error() -> None:
    async with StateHubClient(f"http://127.0.0.1:{free_port()}", token=None, timeout_seconds=2) as client:
        with pytest.raises(StateHubTransportError) as failed:
            await client.health()

    assert failed.value.retryable
    assert failed.value.status_code is None


async def test_a_2xx_that_is_not_json_is_a_contract_error(hub: StateHubClient, state_hub: StateHubEmulator) -> None:
    state_hub.queue_faults("tasks", "not_json_200")

    with pytest.raises(StateHubContractError) as failed:
        await hub.list_tasks(OPEN_TASK_STATUSES)

    assert "body is not JSON" in str(failed.value)
    assert not failed.value.retryable
