"""``activity-core runs show``: a failed run shows only what is known, and a filesystem error
is named as one, not blamed on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from activity_core.cli import main
from activity_core.commands.errors import ExitCode
from activity_core.store import RunFinished, RunStarted, RunStore
from activity_core.store.models import RunReport

STARTED = datetime(2026, 6, 26, 5, 20, 2, tzinfo=UTC)


async def _run(store: RunStore, workflow_id: str, **outcome: object) -> int:
    row_id = await store.record_run_started(
        RunStarted(
            definition_id="daily-statehub-wsjf-triage",
            kind="instruction",
            workflow_id=workflow_id,
            run_id="r",
            trigger="manual",
            scheduled_at=None,
            local_date=date(2026, 6, 26),
            started_at=STARTED,
        )
    )
    report = {k: outcome.pop(k) for k in ("raw_content", "known_refs") if k in outcome}
    if report:
        await store.set_report(workflow_id, "r", RunReport(framing="ndjson", truncated=False, **report))
    if "llm_attempts" in outcome:
        await store.set_llm_attempts(workflow_id, "r", int(outcome.pop("llm_attempts")))
    await store.record_run_finished(
        RunFinished(workflow_id=workflow_id, run_id="r", finished_at=STARTED + timedelta(seconds=9), **outcome)
    )
    return row_id


async def _show(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], dsn: str, *args: str):
    monkeypatch.setenv("DATABASE_URL", dsn)
    code = await asyncio.to_thread(main, ["runs", "show", *args])
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_failed_run_shows_no_unknown_llm_details(
    store: RunStore, fresh_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    row_id = await _run(
        store,
        "manual-failed",
        status="failed_llm_transport",
        error_message="failed_llm_transport: llm-connect POST /execute: ConnectError",
        llm_attempts=4,
    )

    code, out, _ = await _show(monkeypatch, capsys, fresh_database, str(row_id))

    assert code == 0
    assert "llm: attempts=4 reasks=0" in out.splitlines()
    assert "evidence: none posted" in out.splitlines()
    for unknown in ("model=", "provider=", "latency=", "None"):
        assert unknown not in out


async def test_replay_files_into_an_unwritable_place_names_the_filesystem_error(
    store: RunStore, fresh_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    row_id = await _run(store, "manual-clean", status="clean", raw_content='{"type": "summary"}', known_refs=["ws-1"])

    code, _, err = await _show(monkeypatch, capsys, fresh_database, str(row_id), "--replay-files", "/proc/nope")

    assert code == ExitCode.FILE
    assert err.splitlines() == [
        (
            "activity-core runs show: cannot write the replay files to /proc/nope: No such file or directory; "
            "check the path and its permissions"
        )
    ]
    assert "PostgreSQL" not in err
