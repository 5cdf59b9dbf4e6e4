"""The reviewer page: model and reviewer text stays text, the page needs no network, it agrees
with the gate cell by cell, and real Chromium lays it out at a phone's and a desktop's width."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from activity_core.calibration.figures import gate_figures
from activity_core.calibration.gate import Check, Evidence, Piece, evaluate
from activity_core.calibration.html import ReportData, cell_words, render_html, verdict_class
from activity_core.calibration.missed import Happened, ScheduleStatus
from activity_core.kinds.instruction.figures import instruction_figures
from activity_core.store.feedback import Feedback
from tests.history.chromium import layout_at, render_dom
from tests.history.factories import make_run, tick_evidence, triage_definition

# What a hostile or broken model (or reviewer) might put in any text field: it must arrive as text.
HOSTILE = """<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">"""
NEWEST = date(2026, 7, 1)
NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)
TICKS = 30
WIDTHS = (390, 1280)


def sample_report(*, hostile: bool = True) -> ReportData:
    """A month of the triage: a reject on the newest run, a missing note, a paused tick, a late
    backfill, a partial run, a version change."""
    definition = triage_definition()
    text = HOSTILE if hostile else "rank 2 is stale"
    old = {
        "model": "custodian-triage-balanced@2026-05",
        "prompt_template_sha256": "a" * 64,
        "item_schema": "report-item.v1",
    }
    new = {**old, "model": "custodian-triage-balanced@2026-06"}
    ticks = []
    for offset in range(TICKS):
        day = NEWEST - timedelta(days=offset)
        kind = {3: "note-failed", 6: "missed", 9: "late", 12: "row-failed"}.get(offset, "ok")
        tick = tick_evidence(day, kind, row_id=100 + offset)
        if tick.run is not None:
            lag = tick.run.start_lag_seconds if tick.run.late else 0.2 + offset / 10
            tick = replace(tick, run=replace(tick.run, versions=new if offset < 20 else old, start_lag_seconds=lag))
        if kind == "missed":
            tick = replace(tick, miss=(Happened.PAUSED, f"paused: {text}"))
        if kind == "row-failed":
            tick = replace(
                tick,
                run=replace(tick.run, status="partial"),
                evidence={**tick.evidence, Piece.ROW: Evidence(Check.FAILED, f"status partial: {text}")},
            )
        ticks.append(tick)
    reject = Feedback(
        id=1,
        run_row_id=100,
        verdict="reject",
        note=text,
        reviewer="mara" if not hostile else HOSTILE,
        idempotency_key="k",
        progress_event_id=None,
        recorded_at=NOW - timedelta(hours=2),
        posted_at=None,
    )
    accept = reject.model_copy(
        update={"id": 2, "verdict": "accept", "reviewer": "jonas", "note": "top 3 are the right calls"}
    )
    ticks[0] = replace(ticks[0], feedback=(reject, accept))
    ticks[1] = replace(ticks[1], feedback=(accept,))
    paused = ScheduleStatus("paused", note=f"llm-connect maintenance {text}", last_fired=NOW - timedelta(days=6))
    gate = evaluate(definition.id, ticks, required=3, now=NOW, reached_history_start=False, schedule=paused)
    runs = [
        make_run(
            NEWEST - timedelta(days=o),
            id=200 + o,
            items_kept=7,
            items_quarantined=o % 3,
            llm_usage={"completion_tokens": 900 + 20 * o},
            llm_latency_ms=(20 + o) * 1000,
            items=[{"rank": r, "candidate": f"c{(r + o // 5) % 9}"} for r in range(1, 8)],
        )
        for o in range(TICKS)
    ]
    figures = gate_figures(decided=29, clean=25, lags=[0.2, 0.4, 3.1], missed=2) + instruction_figures(
        definition, runs[::-1]
    )
    gate = replace(gate, figures=tuple(figures))
    item = {
        "rank": 1,
        "computed_score": 13.0,
        "candidate": f'"><b>{HOSTILE}' if hostile else "4ef0d53b",
        "title": HOSTILE if hostile else "Ship the State Hub token rotation",
        "rationale": f"</td></tr></table>{HOSTILE}" if hostile else "Unblocks two workstreams; small job.",
        "next_action": HOSTILE if hostile else "Open the rotation PR",
    }
    latest = make_run(
        NEWEST,
        id=129,
        items=[item] * (1 if hostile else 7),
        items_kept=7,
        summary=HOSTILE if hostile else "Seven ranked.",
    )
    return ReportData(definition=definition, gate=gate, latest=latest, generated_at=NOW)


def test_every_text_is_escaped_and_nothing_is_fetched() -> None:
    page = render_html(sample_report())

    assert HOSTILE not in page and "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in page
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    assert 'onerror="' not in page and "</td></tr></table>&lt;" not in page
    assert """content="default-src 'none'; style-src 'unsafe-inline'; img-src data:\"""" in page
    assert "http://" not in page and "https://" not in page and "url(" not in page and "<link" not in page


def test_the_page_says_what_the_gate_says_in_every_cell() -> None:
    data = sample_report(hostile=False)
    page = render_html(data)
    gate = data.gate

    assert page.index('id="gate"') < page.index('id="timeline"') < page.index('id="figures"') < page.index('id="runs"')
    assert "Calibration gate NOT MET" in page and "<strong>streak 0</strong> of 3" in page
    assert "schedule: paused (last fired 2026-06-25T12:00:00+00:00): llm-connect maintenance rank 2 is stale" in page
    assert "rejected by mara: rank 2 is stale" in page and "clean rate, 95 % lower bound" in page
    assert [cell_words(t) for t in gate.ticks[:13:3]] == [
        "rejected by mara",
        "missing note",
        "missed: paused",
        "late 2.5 h",
        "partial",
    ]
    assert verdict_class(gate, 0) == "v-breaks" and verdict_class(gate, 1) == "v-counts"
    assert page.count('class="cell ') == TICKS
    assert page.count('<span class="vchange">versions changed</span>') == 1
    assert "model custodian-triage-balanced@2026-05 → custodian-triage-balanced@2026-06" in page


async def test_chromium_runs_nothing_from_the_page_and_lays_it_out_at_phone_and_desktop_width(
    chromium: str, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_report()), encoding="utf-8")

    dom = await render_dom(chromium, page, tmp_path)
    assert dom.text("title") == "Calibration: Daily State Hub WSJF triage"  # no script changed it
    assert dom.count("script") == 0 and dom.count("img") == 0 and dom.count("b") == 0
    assert dom.text("td.item-title") == HOSTILE  # shown as the text it is
    assert dom.text("h2.gate-headline") == "Calibration gate NOT MET"
    assert dom.count("div.cell") == TICKS and dom.count("div.cell.v-breaks") == 1

    for width in WIDTHS:
        measured = await layout_at(chromium, page, tmp_path, width=width, height=844 if width < 600 else 900)
        assert measured["viewport"] == width and measured["documentWidth"] <= width, measured
        assert measured["title"] == "Calibration: Daily State Hub WSJF triage" and measured["scripts"] == 0
        headline, checklist = measured["headline"], measured["checklist"]
        assert headline["left"] >= 0 and headline["right"] <= width and headline["bottom"] <= measured["documentHeight"]
        assert headline["top"] < (844 if width < 600 else 900)  # the verdict is on the first screen
        assert checklist["left"] >= 0 and checklist["right"] <= width and checklist["width"] > 0.8 * (width - 60)
        assert all(card["left"] >= 0 and card["right"] <= width for card in measured["cards"] + measured["cells"])


@pytest.mark.parametrize("count", [1, 366])
def test_any_timeline_length_renders(count: int) -> None:
    report = sample_report()
    ticks = [tick_evidence(NEWEST - timedelta(days=i), "missed") for i in range(count)]
    gate = evaluate("triage", ticks, required=3, now=NOW, reached_history_start=False)
    page = render_html(replace(report, gate=gate, latest=None))
    assert page.count('class="cell v-') == count and "No run has produced a report yet." in page
