"""The State Hub emulator keeps its evidence across a restart (the local stack's data dir), so
a stopped and started stack still proves its older runs. Over real HTTP, with the real client."""

from __future__ import annotations

from pathlib import Path

import pytest

from activity_core.clients.state_hub import Note, ProgressEvent, StateHubClient
from activity_core.devstack.state_hub_emulator import StateFileError, start_state_hub_emulator

TOKEN = "sh-persist-token-PLANTED-0b1c"


async def _write(url: str) -> tuple[str, str]:
    async with StateHubClient(url, token=TOKEN, timeout_seconds=5) as client:
        event = await client.post_progress(
            ProgressEvent(
                event_type="daily_triage",
                source="activity-core",
                summary="s",
                idempotency_key="run-1",
                payload={"n": 1},
            )
        )
        note = await client.write_note(Note(key="daily-triage-2026-07-01", title="t", body_markdown="b", tags=[]))
    return event, note


async def test_progress_events_and_notes_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "data" / "state-hub-emulator.json"
    with start_state_hub_emulator(token=TOKEN, state_file=state) as first:
        event_id, note_id = await _write(first.url)
    assert state.exists() and [p.name for p in state.parent.iterdir()] == [state.name]  # no temporary file left
    assert TOKEN not in state.read_text()

    with start_state_hub_emulator(token=TOKEN, state_file=state) as second:
        async with StateHubClient(second.url, token=TOKEN, timeout_seconds=5) as client:
            assert [e.id for e in await client.list_progress("daily_triage")] == [event_id]
            assert [n.id for n in await client.list_notes("daily-triage-")] == [note_id]
            again = await client.post_progress(
                ProgressEvent(
                    event_type="daily_triage",
                    source="activity-core",
                    summary="s",
                    idempotency_key="run-1",
                    payload={},
                )
            )
        assert again == event_id  # the idempotency key is remembered too
        assert second.delete_note("daily-triage-2026-07-01")

    with start_state_hub_emulator(token=TOKEN, state_file=state) as third:
        assert third.notes() == [] and [e["id"] for e in third.progress_events()] == [event_id]
        third.reset()
    with start_state_hub_emulator(token=TOKEN, state_file=state) as fourth:
        assert fourth.progress_events() == [] and len(fourth.tasks()) > 0


def test_an_unreadable_state_file_is_named_and_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "state-hub-emulator.json"
    state.write_text("{ half a file", encoding="utf-8")
    with pytest.raises(StateFileError, match=f"cannot read the State Hub emulator's state from {state}.*move it aside"):
        start_state_hub_emulator(state_file=state)
    assert state.read_text(encoding="utf-8") == "{ half a file"


def test_without_a_state_file_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with start_state_hub_emulator() as emulator:
        emulator.reset()
    assert list(tmp_path.iterdir()) == []
