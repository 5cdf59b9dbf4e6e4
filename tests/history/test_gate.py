"""The gate's rules as a pure function of gathered evidence: no server involved."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from activity_core.calibration.gate import (
    Check,
    Evidence,
    Piece,
    TickEvidence,
    evaluate,
    is_pending,
    newest_tick_day,
    runs_by_tick,
    version_diff,
)
from tests.history.factories import SPEC, make_run, tick_evidence

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
NEWEST = date(2026, 7, 1)


def walk(*kinds: str) -> list[TickEvidence]:
    """Ticks newest first, one per day back from NEWEST."""
    return [tick_evidence(NEWEST - timedelta(days=i), kind, row_id=i + 1) for i, kind in enumerate(kinds)]


def gate(*kinds: str, required: int = 3):
    return evaluate("triage", walk(*kinds), required=required, now=NOW, reached_history_start=False)


def test_three_clean_runs_meet_the_gate() -> None:
    report = gate("ok", "ok", "ok", "missed")
    assert report.met and report.streak == 3
    assert report.ticks[report.broken_at].local_date == date(2026, 6, 28)


def test_the_streak_stops_at_the_first_tick_that_does_not_count() -> None:
    report = gate("ok", "ok", "row-failed", "ok", "ok")
    assert not report.met and report.streak == 2 and report.broken_at == 2
    assert report.broken_by == "tick 2026-06-29 (run 3): row: row failed"


def test_unknown_evidence_never_counts_as_passed() -> None:
    report = gate("progress-unknown", "ok", "ok")
    assert not report.met and report.streak == 0
    assert "progress: progress unknown" in report.broken_by


def test_a_run_missing_a_piece_of_evidence_does_not_count() -> None:
    partial_evidence = walk("ok")[0]
    del partial_evidence.evidence[Piece.NOTE]
    assert not partial_evidence.counted


def test_a_missed_tick_breaks_and_a_pending_one_is_skipped() -> None:
    assert gate("ok", "missed", "ok", "ok").streak == 1
    report = gate("pending", "ok", "ok", "ok")
    assert report.met and report.streak == 3 and report.broken_at is None
    assert "missed" in gate("missed").broken_by


def test_a_tick_whose_only_run_is_late_breaks_the_streak_with_its_lag() -> None:
    report = gate("ok", "late", "ok", "ok")
    assert report.streak == 1 and report.broken_at == 1
    assert report.broken_by == (
        "tick 2026-06-30 (run 2): late: its only run started 2.5 h after the tick (a catch-up or a backfill, which never counts)"
    )


def test_only_runs_of_the_newest_versions_count_and_the_change_is_marked() -> None:
    old = {"model": "m-1", "prompt_template_sha256": "a" * 64, "item_schema": "report-item.v1"}
    new = {**old, "model": "m-2"}
    ticks = walk("ok", "ok", "ok", "ok")
    ticks = [replace(t, run=replace(t.run, versions=new if i < 2 else old)) for i, t in enumerate(ticks)]
    report = evaluate("triage", ticks, required=3, now=NOW, reached_history_start=False)

    assert report.streak == 2 and report.broken_at == 2 and not report.met
    assert "versions: made by other versions than the newest run (model m-1 → m-2)" in report.broken_by
    assert [t.version_change for t in report.ticks] == [None, "model m-1 → m-2", None, None]
    assert report.as_dict()["ticks"][1]["version_change"] == "model m-1 → m-2"
    sha = {**new, "prompt_template_sha256": "b" * 64}
    assert version_diff(sha, new) == "prompt_template_sha256 aaaaaaaaaaaa → bbbbbbbbbbbb"
    assert (
        version_diff(None, new)
        == "item_schema report-item.v1 → none; model m-2 → none; prompt_template_sha256 aaaaaaaaaaaa → none"
    )


def test_the_json_shape_names_every_check() -> None:
    data = gate("note-failed").as_dict()
    assert data["met"] is False and data["streak"] == 0
    assert data["ticks"][0]["evidence"]["note"] == {"check": "failed", "detail": "note failed"}
    assert data["ticks"][0]["run"]["row_id"] == 1


KINDS = st.sampled_from(
    ["ok", "missed", "pending", "late", "row-failed", "temporal-unknown", "note-failed", "progress-unknown"]
)


@given(st.lists(KINDS, max_size=20), st.integers(min_value=1, max_value=5))
def test_streak_is_the_run_of_counted_ticks_before_the_first_that_does_not_count(
    kinds: list[str], required: int
) -> None:
    report = gate(*kinds, required=required)
    decided = [kind for kind in kinds if kind != "pending"]
    expected = next((i for i, kind in enumerate(decided) if kind != "ok"), len(decided))
    assert report.streak == expected
    assert report.met == (expected >= required)
    if report.broken_at is not None:
        assert kinds[report.broken_at] not in ("ok", "pending")
        assert all(kind in ("ok", "pending") for kind in kinds[: report.broken_at])


def test_newest_tick_day_is_the_last_tick_at_or_before_now() -> None:
    summer_tick = datetime(2026, 7, 1, 5, 20, tzinfo=UTC)  # 07:20 CEST
    assert newest_tick_day(SPEC, summer_tick) == date(2026, 7, 1)
    assert newest_tick_day(SPEC, summer_tick - timedelta(microseconds=1)) == date(2026, 6, 30)
    winter_tick = datetime(2026, 12, 1, 6, 20, tzinfo=UTC)  # 07:20 CET
    assert newest_tick_day(SPEC, winter_tick - timedelta(minutes=30)) == date(2026, 11, 30)


def test_a_tick_is_pending_only_within_its_execution_window_and_without_a_finished_run() -> None:
    run = make_run(NEWEST)
    tick = run.scheduled_at
    assert is_pending(tick, None, SPEC, tick + timedelta(minutes=59))
    assert is_pending(tick, make_run(NEWEST, status="running"), SPEC, tick + timedelta(minutes=5))
    assert not is_pending(tick, run, SPEC, tick + timedelta(minutes=5))
    assert not is_pending(tick, None, SPEC, tick + timedelta(seconds=SPEC.execution_timeout_seconds))


def test_of_several_rows_for_one_tick_the_scheduled_then_the_newest_is_the_tick_run() -> None:
    newer, older = make_run(NEWEST, id=9), make_run(NEWEST, id=3)
    assert runs_by_tick([newer, older]) == {newer.scheduled_at: newer}
    assert runs_by_tick([make_run(NEWEST, trigger="manual"), make_run(NEWEST, trigger="trigger")]) == {}
    backfill = make_run(NEWEST, id=12, trigger="late")
    assert runs_by_tick([backfill, older]) == {older.tick_at: older}
    assert runs_by_tick([backfill]) == {backfill.tick_at: backfill}


def test_problem_lists_every_piece_that_did_not_pass() -> None:
    tick = walk("ok")[0]
    tick.evidence[Piece.TEMPORAL] = Evidence(Check.UNKNOWN, "Temporal at x is unreachable")
    tick.evidence[Piece.ROW] = Evidence(Check.FAILED, "status partial")
    assert tick.problem() == "temporal: Temporal at x is unreachable; row: status partial"
