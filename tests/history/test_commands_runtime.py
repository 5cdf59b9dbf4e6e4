"""The history commands as an operator runs them, against the real scheduled history.

The CLI builds its clients from the environment, so each test sets the variables the way a
deployment would and runs ``activity-core`` in a thread (its handlers own their event loop).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activity_core.calibration.replay import replay_run
from activity_core.cli import main
from tests.fixtures.emulators import STATE_HUB_TOKEN
from tests.fixtures.runtime import write_test_definition
from tests.history.chromium import render_dom
from tests.history.conftest import EVERY_SECONDS, ON_TIME_SECONDS, PAUSE_NOTE, ScheduledHistory

pytestmark = pytest.mark.integration

CALIBRATION = "daily_triage_calibration"


@pytest.fixture
def cli(scheduled_history: ScheduledHistory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    settings = scheduled_history.harness.settings
    for name, value in {
        "DATABASE_URL": settings.database_dsn(),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "STATE_HUB_URL": settings.state_hub_url,
        "STATE_HUB_TOKEN": settings.state_hub_bearer(),
        "ACTIVITY_CORE_DEFINITIONS_DIR": str(settings.definitions_dir),
    }.items():
        monkeypatch.setenv(name, value)

    async def run(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(main, list(argv))
        out, err = capsys.readouterr()
        assert STATE_HUB_TOKEN not in out + err
        return code, out, err

    return run


async def test_feedback_posts_exactly_one_event_per_verdict_when_retried_after_failures(
    scheduled_history: ScheduledHistory, cli
) -> None:
    h = scheduled_history
    run = await h.run_at(h.story("late"), 0)  # before that story's break: its verdicts change no other test's gate
    accept = [
        "calibration",
        "feedback",
        str(run.id),
        "--verdict",
        "accept",
        "--reviewer",
        "alice",
        "--note",
        "ranking matches",
    ]

    def events(verdict: str) -> list[dict]:
        return [
            e
            for e in h.state_hub.progress_events()
            if e["event_type"] == CALIBRATION and e["payload"]["verdict"] == verdict
        ]

    h.state_hub.queue_faults("progress", "http_503")
    code, _, err = await cli(*accept)
    assert code == 1 and "the verdict is stored, but State Hub did not take it" in err and "503" in err
    assert events("accept") == []

    code, out, _ = await cli(*accept)
    assert code == 0 and "posted to State Hub as daily_triage_calibration event" in out
    code, out, _ = await cli(*accept)
    assert code == 0 and "nothing posted again" in out
    [event] = events("accept")
    payload = {key: event["payload"][key] for key in ("verdict", "reviewer", "note", "workflow_id", "run_id")}
    assert payload == {
        "verdict": "accept",
        "reviewer": "alice",
        "note": "ranking matches",
        "workflow_id": run.workflow_id,
        "run_id": run.run_id,
    }
    assert event["idempotency_key"] == f"calibration:{run.workflow_id}:{run.run_id}:accept:alice"

    # The hub stores the event, then the answer is lost: the retry must not create a second one.
    h.state_hub.queue_faults("progress", "apply_then_500")
    reject = ["calibration", "feedback", run.workflow_id, "--verdict", "reject"]
    assert (await cli(*reject))[0] == 1
    assert (await cli(*reject))[0] == 0
    assert len(events("reject")) == 1

    stored = (await h.feedback.for_runs([run.id]))[run.id]
    assert {(f.verdict, f.progress_event_id) for f in stored} == {
        ("accept", event["id"]),
        ("reject", events("reject")[0]["id"]),
    }


async def test_a_standing_reject_breaks_the_streak_until_its_reviewer_changes_their_mind(
    scheduled_history: ScheduledHistory, cli
) -> None:
    h, story = scheduled_history, scheduled_history.story("clean")
    newest = await h.run_at(story, 2)
    at = story.after(-1).isoformat()

    async def gate() -> dict:
        code, out, _ = await cli("calibration", "status", story.id, "--json", "--at", at)
        report = json.loads(out)
        assert code == (0 if report["met"] else 1)
        return report

    def feedback(verdict: str, reviewer: str, note: str | None = None) -> list[str]:
        return [
            "calibration",
            "feedback",
            str(newest.id),
            "--verdict",
            verdict,
            "--reviewer",
            reviewer,
            *(["--note", note] if note else []),
        ]

    assert (await cli(*feedback("reject", "alice", "rank 2 is stale")))[0] == 0
    assert (await cli(*feedback("accept", "bob")))[0] == 0
    report = await gate()
    assert not report["met"] and report["streak"] == 0
    assert report["broken_by"].endswith("verdict: rejected by alice: rank 2 is stale")
    assert report["ticks"][0]["verdict"]["rejected_by"] == ["alice"]
    code, out, _ = await cli("calibration", "status", story.id, "--at", at)
    assert code == 1 and "streak broken by: tick" in out and "rejected by alice: rank 2 is stale" in out

    assert (await cli(*feedback("accept", "alice")))[0] == 0
    assert (await gate())["met"]
    assert (await cli(*feedback("reject", "alice", "no, it is stale after all")))[0] == 0  # and back again
    assert (await gate())["broken_by"].endswith("verdict: rejected by alice: no, it is stale after all")
    code, out, _ = await cli(*feedback("reject", "alice"))
    assert code == 0 and "nothing posted again" in out  # the verdict alice holds already
    assert (await cli(*feedback("accept", "alice")))[0] == 0
    report = await gate()
    assert report["met"] and report["ticks"][0]["verdict"]["state"] == "accepted"
    keys = [f.idempotency_key for f in (await h.feedback.for_runs([newest.id]))[newest.id]]
    base = f"calibration:{newest.workflow_id}:{newest.run_id}"
    assert keys == [
        f"{base}:reject:alice",
        f"{base}:accept:bob",
        f"{base}:accept:alice:1",
        f"{base}:reject:alice:2",
        f"{base}:accept:alice:3",
    ]


async def test_feedback_and_show_name_a_run_that_does_not_exist(cli) -> None:
    code, _, err = await cli("calibration", "feedback", "987654321", "--verdict", "accept")
    assert code == 1 and "no run with row id or workflow id '987654321' in activity_runs" in err
    code, _, err = await cli("runs", "show", "no-such-workflow")
    assert code == 1 and "no run with row id or workflow id 'no-such-workflow'" in err


async def test_runs_list_and_show(scheduled_history: ScheduledHistory, cli) -> None:
    h, story = scheduled_history, scheduled_history.story("partial")
    code, out, _ = await cli(
        "runs", "list", "--definition", story.id, "--trigger", "schedule", "--json", "--limit", "1000"
    )
    listed = json.loads(out)
    assert code == 0 and listed and {r["trigger"] for r in listed} == {"schedule"}
    # by the run's time: a scheduled run's tick, however late a backfill started it
    assert [r["scheduled_at"] for r in listed] == sorted((r["scheduled_at"] for r in listed), reverse=True)

    assert len(listed) == 5  # six ticks, one skipped by overlap
    code, out, _ = await cli("runs", "list", "--definition", story.id, "--status", "partial")
    partial = await h.run_at(story, 1)
    [header, line] = out.splitlines()
    assert code == 0 and header.split()[:5] == ["ID", "DATE", "DEFINITION", "TRIGGER", "STATUS"]
    assert f" {partial.local_date} " in line and " partial " in line

    code, out, _ = await cli("runs", "show", str(partial.id))
    assert (
        code == 0
        and f"run {partial.id}  {story.id}  {partial.local_date}  (schedule)" in out
        and "status: partial" in out
    )
    assert "quarantined (1):" in out and "snippet:" in out
    assert f"temporal workflow show --workflow-id {partial.workflow_id} --run-id {partial.run_id}" in out
    assert f"progress_event={partial.progress_event_id}" in out and "usage: {" in out


async def test_status_and_report_as_of_the_clean_story(
    scheduled_history: ScheduledHistory, cli, tmp_path: Path, chromium: str
) -> None:
    story = scheduled_history.story("clean")
    at = story.after(-1).isoformat()

    code, out, _ = await cli("calibration", "status", story.id, "--at", at)
    assert code == 0, out
    assert out.startswith(f"calibration gate for {story.id}: MET (streak 3, 3 required)")
    assert out.count("✓ temporal") == 3 and "streak unbroken back to the first scheduled run" in out
    assert "figures over the 3 decided tick(s) walked:" in out and "clean rate, 95 % lower bound  ≥ 0.44" in out

    code, out, _ = await cli("calibration", "status", story.id, "--required", "4", "--json", "--at", at)
    report = json.loads(out)
    assert code == 1 and report["met"] is False and report["streak"] == 3 and report["reached_history_start"]
    assert {f["key"]: f["value"] for f in report["figures"]}["clean_rate"] == 1.0

    page = tmp_path / "report.html"
    code, out, _ = await cli("report", "--html", str(page), "--definition", story.id, "--days", "20", "--at", at)
    assert code == 0 and "calibration gate MET (streak 3 of 3)" in out
    dom = await render_dom(chromium, page, tmp_path)
    assert dom.text("h2.gate-headline") == "Calibration gate MET"
    assert (
        dom.count("div.cell") == 3 and dom.count("div.cell.v-counts.in-streak") == 3
    )  # the walk starts at history's start
    assert (
        dom.text("p.schedule-state")
        == "schedule: no such schedule in Temporal (deleted, or never synced: `activity-core schedules sync`)"
    )


async def test_status_now_of_a_schedule_left_paused(scheduled_history: ScheduledHistory, cli) -> None:
    """With the real clock: the paused schedule's ticks since its last run are missed."""
    story = scheduled_history.story("missed")
    first_paused = story.ticks[-1] + timedelta(seconds=EVERY_SECONDS)
    await asyncio.sleep(max(0.0, (first_paused - datetime.now(UTC)).total_seconds() + ON_TIME_SECONDS + 0.5))
    code, out, _ = await cli("calibration", "status", story.id)
    assert code == 1, out
    assert out.startswith(f"calibration gate for {story.id}: NOT MET (streak 0, 3 required)")
    assert "MISSED" in out and "streak broken by: tick" in out
    assert "schedule: paused (last fired " in out and f"paused: {PAUSE_NOTE}" in out

    code, out, _ = await cli("calibration", "status", story.id, "--json")
    report = json.loads(out)
    assert code == 1 and report["schedule"]["state"] == "paused" and report["schedule"]["note"] == PAUSE_NOTE
    assert next(t for t in report["ticks"] if t["happened"] != "pending")["happened"] == "paused" and {
        t["happened"] for t in report["ticks"]
    } >= {"ran", "not_fired"}


async def test_commands_name_the_variables_to_set(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS")
    monkeypatch.delenv("STATE_HUB_URL")
    code, _, err = await cli("calibration", "status", "daily-statehub-wsjf-triage")
    assert code == 2 and "set TEMPORAL_ADDRESS and STATE_HUB_URL" in err
    monkeypatch.delenv("DATABASE_URL")
    code, _, err = await cli("runs", "list")
    assert code == 2 and "set DATABASE_URL" in err


async def test_status_of_a_definition_without_scheduled_runs(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_test_definition(tmp_path, "triage-never-fired")
    monkeypatch.setenv("ACTIVITY_CORE_DEFINITIONS_DIR", str(tmp_path))
    code, _, err = await cli("calibration", "status", "triage-never-fired")
    assert code == 1 and "'triage-never-fired' has no scheduled run" in err
    code, out, err = await cli("calibration", "status", "triage-never-fired", "--json")
    report = json.loads(out)
    assert code == 1 and report["met"] is False and report["streak"] == 0 and report["ticks"] == []
    assert "'triage-never-fired' has no scheduled run" in report["error"] and "has no scheduled run" in err
    code, out, _ = await cli("calibration", "status", "no-such-definition", "--json")
    assert code == 2 and "no definition 'no-such-definition'" in json.loads(out)["error"]
    code, _, err = await cli("calibration", "status", "no-such-definition")
    assert code == 2 and "no definition 'no-such-definition'" in err


async def test_replay_finds_no_difference_today_and_names_each_run_a_stricter_contract_changes(
    scheduled_history: ScheduledHistory, cli
) -> None:
    h, story = scheduled_history, scheduled_history.story("partial")
    code, out, _ = await cli("calibration", "replay", story.id)
    assert code == 0 and out.startswith(
        f"replayed 5 kept answer(s) of {story.id} through today's boundary: none would differ"
    )

    code, out, _ = await cli("calibration", "replay", story.id, "--runs", "2", "--json")
    assert code == 0 and [r["differs"] for r in json.loads(out)] == [False, False]

    definition = story.definition
    limits = definition.output.limits
    stricter = definition.model_copy(
        update={
            "output": definition.output.model_copy(
                update={
                    "limits": limits.model_copy(
                        update={"max_string_lengths": {**limits.max_string_lengths, "rationale": 20}}
                    )
                }
            )
        }
    )
    runs = await h.history.recent_finished(story.id, 30)
    replayed = [replay_run(stricter, run) for run in runs]
    assert len(replayed) == 5 and all(r.differs for r in replayed)
    first = replayed[0]
    assert first.differences[0].startswith(f"kept items {first.run.items_kept} → ")
    assert any(d.startswith("quarantine ") for d in first.differences)
