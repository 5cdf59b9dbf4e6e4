"""The HTML report: model output stays text, the page needs no network, and real Chromium renders it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from activity_core.calibration.gate import evaluate
from activity_core.calibration.html import Day, ReportData, render_html
from activity_core.store.feedback import Feedback
from tests.history.chromium import render_dom
from tests.history.factories import make_run, tick_evidence, triage_definition

# What a hostile or broken model might put in any text field: it must arrive as text.
HOSTILE = """<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">"""
NEWEST = date(2026, 7, 1)
DAYS = 30


def hostile_report() -> ReportData:
    definition = triage_definition()
    item = {"rank": 1, "computed_score": 13.0, "candidate": f'"><b>{HOSTILE}', "title": HOSTILE,
            "rationale": f"</td></tr></table>{HOSTILE}", "next_action": HOSTILE}
    days = []
    for offset in range(DAYS - 1, -1, -1):
        day = NEWEST - timedelta(days=offset)
        if offset == 4:
            run = None  # missed
        elif offset == 7:
            run = make_run(day, id=100 + offset, status="partial", items_kept=5, items_quarantined=2,
                           quarantined=[{"reason": "schema_violation", "detail": HOSTILE, "snippet": HOSTILE}, {"reason": f"<i>{HOSTILE}"}])
        elif offset == 12:
            run = make_run(day, id=100 + offset, status="failed_llm_timeout", error_message=HOSTILE, llm_latency_ms=None)
        else:
            run = make_run(day, id=100 + offset, items_kept=7, llm_latency_ms=(20 + offset * 3) * 1000)
        days.append(Day(tick=run.scheduled_at if run else datetime.combine(day, datetime.min.time(), UTC), local_date=day, run=run))
    ticks = [tick_evidence(NEWEST - timedelta(days=i), kind, row_id=i) for i, kind in enumerate(["ok", "ok", "note-failed"])]
    verdict = Feedback(id=1, run_row_id=0, verdict="reject", note=HOSTILE, reviewer=HOSTILE, idempotency_key="k",
                       progress_event_id=None, recorded_at=datetime(2026, 7, 1, 9, tzinfo=UTC), posted_at=None)
    ticks[0] = replace(ticks[0], feedback=(verdict,))
    gate = evaluate(definition.id, ticks, required=3, now=datetime(2026, 7, 1, 12, tzinfo=UTC), reached_history_start=False)
    latest = make_run(NEWEST, id=129, items=[item], items_kept=1, summary=HOSTILE)
    return ReportData(definition=definition, gate=gate, days=days, latest=latest, generated_at=datetime(2026, 7, 1, 12, tzinfo=UTC))


def test_every_text_is_escaped_and_nothing_is_fetched() -> None:
    page = render_html(hostile_report())

    assert HOSTILE not in page and "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in page
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<i>" not in page
    assert 'onerror="' not in page and "</td></tr></table>&lt;" not in page
    assert """content="default-src 'none'; style-src 'unsafe-inline'; img-src data:\"""" in page
    assert "http://" not in page and "https://" not in page and "url(" not in page and "<link" not in page


def test_the_sections_a_reviewer_reads_first() -> None:
    page = render_html(hostile_report())

    assert page.index('id="gate"') < page.index('id="timeline"') < page.index('id="quarantine"')
    assert page.index('id="quarantine"') < page.index('id="latency"') < page.index('id="latest"')
    assert "Calibration gate NOT MET" in page and "<strong>streak 0</strong> of 3" in page  # the standing reject on the newest run
    assert "LLM latency against the 300 s budget" in page and "2 of 196 items quarantined (1%)" in page


async def test_chromium_renders_the_page_and_runs_nothing_from_it(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(hostile_report()), encoding="utf-8")

    dom = await render_dom(chromium, page, tmp_path)

    assert dom.text("title") == "Daily triage calibration: Daily State Hub WSJF triage"  # no script changed it
    assert dom.count("script") == 0 and dom.count("img") == 0 and dom.count("b") == 0
    assert dom.text("td.item-title") == HOSTILE  # shown as the text it is
    assert dom.text("h2.gate-headline") == "Calibration gate NOT MET"
    assert dom.count("rect.cell") == DAYS
    assert dom.count("rect.cell.s-missed") == 1 and dom.count("rect.cell.s-failed") == 1 and dom.count("rect.cell.s-partial") == 1
    assert dom.count("rect.qbar") == 2 and dom.count("rect.lbar") == DAYS - 2
    assert dom.count("line.budget") == 1


@pytest.mark.parametrize("days", [1, 366])
def test_any_timeline_length_renders(days: int) -> None:
    report = hostile_report()
    many = [Day(tick=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i), local_date=date(2026, 1, 1) + timedelta(days=i), run=None) for i in range(days)]
    page = render_html(replace(report, days=many, latest=None))
    assert page.count('class="cell s-missed"') == days and "No run has produced a report yet." in page
