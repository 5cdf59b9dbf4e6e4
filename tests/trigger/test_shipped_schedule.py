"""The shipped ops-warden-worker definition through `schedules sync`, the CLI an operator runs:
the dry run shows its schedule created paused with the note that names the shakedown, and the
real sync creates it so on the session's Temporal."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activity_core.cli import main
from activity_core.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration
SCHEDULE_ID = "ops-warden-worker"


async def _forget_schedule(client: Client) -> None:
    """Another test of this session may have synced the shipped definitions already."""
    try:
        await client.get_schedule_handle(SCHEDULE_ID).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def test_sync_creates_the_shipped_trigger_schedule_paused_with_the_shakedown_note(
    temporal_client: Client,
    temporal_address: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    definitions_dir = tmp_path / "definitions"
    shutil.copytree(PROJECT_ROOT / "definitions", definitions_dir)
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_address)
    monkeypatch.setenv("ACTIVITY_CORE_DEFINITIONS_DIR", str(definitions_dir))
    monkeypatch.setenv("ACTIVITY_CORE_TASK_QUEUE", f"tq-{uuid.uuid4().hex[:8]}")
    await _forget_schedule(temporal_client)

    assert await asyncio.to_thread(main, ["schedules", "sync", "--dry-run"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if f" {SCHEDULE_ID}:" in line]
    assert line.startswith(f"(dry run) create    {SCHEDULE_ID}: every 1800 s, overlap skip"), line
    assert "created paused" in line and "enabled: false" in line, line
    assert "a clean dry-run shakedown" in line and f"runs list --definition {SCHEDULE_ID}" in line, line
    with pytest.raises(RPCError):  # the dry run created nothing
        await temporal_client.get_schedule_handle(SCHEDULE_ID).describe()

    assert await asyncio.to_thread(main, ["schedules", "sync"]) == 0
    (created,) = [line for line in capsys.readouterr().out.splitlines() if f" {SCHEDULE_ID}:" in line]
    assert created == line.removeprefix("(dry run) "), created
    state = (await temporal_client.get_schedule_handle(SCHEDULE_ID).describe()).schedule.state
    assert state.paused
    assert state.note is not None and "a clean dry-run shakedown" in state.note
    assert f"definitions/{SCHEDULE_ID}.yaml has enabled: false" in state.note
    assert state.note in line, "the dry run shows the very note the sync writes"
