"""The reviewer page: the calibration gate as one self-contained static HTML page. Pure.

Everything on it comes from the gate's own report (``GateReport``), so the page and
``calibration status`` never disagree: the timeline is the gate's walk, each cell coloured by
the gate's verdict on that tick, with the failure class, the missing evidence or the reason
for a missed tick written in the cell. Inline CSS only, no script: the Content-Security-Policy
forbids scripts and every fetch, and every piece of text is HTML-escaped, because much of it
(titles, rationales, snippets, reviewers' notes) was written by a model or a person and must
stay text. The layout is fluid: it works from a 390 px phone to a desktop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from activity_core.calibration.gate import Check, GateReport, Piece, TickEvidence, describe_lag
from activity_core.calibration.missed import Happened
from activity_core.definitions.base import DefinitionBase
from activity_core.store.models import RunRecord


@dataclass(frozen=True)
class ReportData:
    definition: DefinitionBase
    gate: GateReport
    """Its ticks (newest first) are the timeline."""
    latest: RunRecord | None
    """The newest run that produced a ranked report."""
    generated_at: datetime


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _status_class(status: str) -> str:
    return "s-failed" if status.startswith("failed_") else f"s-{status}"


_MISSED_WORDS = {
    Happened.SKIPPED_OVERLAP: "skipped: overlap",
    Happened.PAUSED: "paused",
    Happened.NOT_FIRED: "not fired",
    Happened.FIRED_NO_ROW: "fired, no row",
    Happened.UNKNOWN: "fired? unknown",
}


def verdict_class(gate: GateReport, index: int) -> str:
    """The gate's verdict on the tick: counts, breaks (the tick that ended the streak),
    fails (does not count, past the break), pending, or missed."""
    tick = gate.ticks[index]
    if tick.pending:
        return "v-pending"
    if tick.counted:
        return "v-counts"
    if index == gate.broken_at:
        return "v-breaks"
    return "v-missed" if tick.run is None else "v-fails"


def cell_words(tick: TickEvidence) -> str:
    """What a cell says, short: the status, or what kept the tick from counting."""
    if tick.pending:
        return "pending"
    if tick.run is None:
        return f"missed: {_MISSED_WORDS.get(tick.happened, 'not fired')}"
    if tick.run.late:
        return f"late {describe_lag(tick.run.start_lag_seconds)}"
    if tick.verdict.rejects:
        return "rejected by " + ", ".join(f.reviewer or "unnamed" for f in tick.verdict.rejects)
    if tick.run.status != "clean":
        return tick.run.status
    if tick.stale_versions:
        return "other versions"
    missing = [piece.value for piece in Piece if piece in tick.required and tick.evidence.get(piece) is None]
    failed = [p.value for p, e in tick.evidence.items() if e.check is Check.FAILED]
    unknown = [p.value for p, e in tick.evidence.items() if e.check is Check.UNKNOWN]
    if failed or missing:
        return "missing " + ", ".join(failed + missing)
    if unknown:
        return "unknown " + ", ".join(unknown)
    return "clean"


def render_html(data: ReportData) -> str:
    definition, gate = data.definition, data.gate
    zone = ZoneInfo(definition.schedule.time_zone)
    title = f"Calibration: {definition.title}"
    sections = [
        _gate_section(gate),
        _timeline_section(gate),
        _figures_section(gate),
        _runs_section(gate),
        _latest_section(data.latest),
    ]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_e(title)}</h1>
<p class="meta">definition <code>{_e(definition.id)}</code> · scheduled {_e(definition.schedule.describe())}
· generated {_e(data.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"))}</p>
<p class="schedule-state state-{_e(gate.schedule.state)}">schedule: {_e(gate.schedule.describe())}</p>
</header>
<main>
{"".join(sections)}
</main>
</body>
</html>
"""


# --- the gate --------------------------------------------------------------------------


def _gate_section(gate: GateReport) -> str:
    met = "met" if gate.met else "not-met"
    headline = "Calibration gate MET" if gate.met else "Calibration gate NOT MET"
    if gate.broken_by:
        ended = f"Streak broken by {_e(gate.broken_by)}"
    elif gate.reached_history_start:
        ended = "Unbroken back to the first scheduled run."
    else:
        ended = f"Unbroken over all {len(gate.ticks)} ticks walked."
    unknown_html = "".join(f"<li>{_e(detail)}</li>" for detail in gate.unknown)
    shown = gate.ticks if gate.broken_at is None else gate.ticks[: gate.broken_at + 1]
    cards = "".join(_check_card(gate, index) for index in range(len(shown)))
    bound = next((f.shown for f in gate.figures if f.key == "clean_rate_wilson_lower_95"), None)
    proves = f' · clean rate, 95 % lower bound <strong class="bound">{_e(bound)}</strong>' if bound else ""
    return f"""<section class="gate {met}" id="gate">
<h2 class="gate-headline">{headline}</h2>
<p class="streak"><strong>streak {gate.streak}</strong> of {gate.required} required clean consecutive scheduled runs{proves}</p>
<p class="ended">{ended}</p>
{f'<p class="unknown-head">Could not check (counted as not passed):</p><ul class="unknown">{unknown_html}</ul>' if unknown_html else ""}
<div class="checklist" id="checklist">{cards}</div>
</section>
"""


def _check_card(gate: GateReport, index: int) -> str:
    tick = gate.ticks[index]
    verdict = verdict_class(gate, index)
    if tick.run is None:
        head = "pending" if tick.pending else "<strong>missed</strong>"
        body = f'<p class="problem">{_e(tick.account())}</p>'
    else:
        lag = describe_lag(tick.run.start_lag_seconds)
        head = (
            f'run {tick.run.row_id} <span class="pill {_status_class(tick.run.status)}">{_e(tick.run.status)}</span>'
            f' <span class="lag">+{_e(lag)}</span>'
        )
        marks = "".join(
            f'<li class="c-{tick.evidence[p].check.value}"><span class="mark">{tick.evidence[p].check.mark}</span> {p.value}: '
            f"{_e(tick.evidence[p].detail)}</li>"
            for p in Piece
            if p in tick.evidence
        )
        body = f'<ul class="marks">{marks}</ul>'
        if not tick.counted and not tick.pending:
            body += f'<p class="problem">{_e(tick.problem())}</p>'
    if tick.feedback:
        body += f'<p class="verdict-line">reviewers: {_e(tick.verdict.describe())}</p>'
    if tick.version_change:
        body += f'<p class="version-change">versions changed with this run: {_e(tick.version_change)}</p>'
    return (
        f'<div class="card {verdict}"><p class="card-head"><span class="when">{_e(tick.name)}</span> {head}</p>'
        f"{body}</div>"
    )


# --- the timeline ----------------------------------------------------------------------


def _timeline_section(gate: GateReport) -> str:
    cells = []
    for index in reversed(range(len(gate.ticks))):
        tick = gate.ticks[index]
        streak = " in-streak" if tick.counted and (gate.broken_at is None or index < gate.broken_at) else ""
        lag = f'<span class="lag">+{_e(describe_lag(tick.run.start_lag_seconds))}</span>' if tick.run else ""
        change = '<span class="vchange">versions changed</span>' if tick.version_change else ""
        cells.append(
            f'<div class="cell {verdict_class(gate, index)}{streak}" title="{_e(tick.account())}">'
            f'<span class="when">{_e(tick.name)}</span><span class="what">{_e(cell_words(tick))}</span>{lag}{change}</div>'
        )
    legend = "".join(
        f'<span class="key"><i class="{cls}"></i>{name}</span>'
        for name, cls in (
            ("counts", "v-counts"),
            ("broke the streak", "v-breaks"),
            ("does not count", "v-fails"),
            ("missed", "v-missed"),
            ("pending", "v-pending"),
        )
    )
    return f"""<section id="timeline">
<h2>The last {len(gate.ticks)} ticks, as the gate judged them</h2>
<p class="meta">oldest first; a thick frame marks the streak; each cell says why it does not count</p>
<div class="timeline">{"".join(cells)}</div>
<p class="legend">{legend}</p>
</section>
"""


# --- figures and runs ------------------------------------------------------------------


def _figures_section(gate: GateReport) -> str:
    rows = "".join(
        f'<div class="figure" data-key="{_e(f.key)}"><dt>{_e(f.label)}</dt><dd>{_e(f.shown)}'
        f"{f'<small>{_e(f.detail)}</small>' if f.detail else ''}</dd></div>"
        for f in gate.figures
    )
    decided = sum(1 for tick in gate.ticks if not tick.pending)
    return f"""<section id="figures">
<h2>The gate in numbers</h2>
<p class="meta">over the {decided} decided tick(s) walked; the rule stays {gate.required} clean consecutive scheduled runs</p>
<dl class="figures">{rows or "<p>No figures: nothing was decided yet.</p>"}</dl>
</section>
"""


def _runs_section(gate: GateReport) -> str:
    rows = []
    for tick in gate.ticks:
        run = tick.run
        versions = (
            ""
            if run is None or not run.versions
            else ", ".join(f"{k}: {str(v)[:12]}" for k, v in sorted(run.versions.items()))
        )
        rows.append(
            f'<tr><td class="nowrap">{_e(tick.name)}</td><td>{_e(tick.happened.value)}</td>'
            f"<td>{_e(cell_words(tick))}</td>"
            f'<td class="num nowrap">{_e(describe_lag(run.start_lag_seconds)) if run else "–"}</td>'
            f"<td>{_e(tick.verdict.describe()) if tick.feedback else '–'}</td>"
            f"<td>{_e(tick.version_change or '')}<small>{_e(versions)}</small></td></tr>"
        )
    return f"""<section id="runs">
<h2>Ticks, runs and versions</h2>
<div class="scroll"><table class="runs">
<thead><tr><th>tick</th><th>happened</th><th>gate</th><th>lag</th><th>reviewers</th><th>versions</th></tr></thead>
<tbody>{"".join(rows)}</tbody>
</table></div>
</section>
"""


# --- the latest report -----------------------------------------------------------------


def _latest_section(latest: RunRecord | None) -> str:
    if latest is None:
        return '<section id="latest"><h2>Latest ranked report</h2><p>No run has produced a report yet.</p></section>\n'
    rows = "".join(
        f'<tr><td class="num">{_e(item.get("rank"))}</td><td class="num">{_e(item.get("computed_score"))}</td>'
        f'<td><code>{_e(item.get("candidate"))}</code></td><td class="item-title">{_e(item.get("title"))}</td>'
        f"<td>{_e(item.get('rationale'))}</td><td>{_e(item.get('next_action'))}</td></tr>"
        for item in latest.items or []
    )
    summary = f'<p class="summary">{_e(latest.summary)}</p>' if latest.summary else ""
    return f"""<section id="latest">
<h2>Latest ranked report: {latest.local_date} <span class="pill {_status_class(latest.status)}">{_e(latest.status)}</span></h2>
<p class="meta">run {latest.id} ({_e(latest.trigger)}) · {latest.items_kept or 0} kept, {latest.items_quarantined or 0} quarantined · workflow <code>{_e(latest.workflow_id)}</code></p>
{summary}
<div class="scroll"><table class="items">
<thead><tr><th>#</th><th>score</th><th>candidate</th><th>title</th><th>rationale</th><th>next action</th></tr></thead>
<tbody>{rows}</tbody>
</table></div>
</section>
"""


_CSS = """
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121; margin: 0 auto; max-width: 1180px; padding: 12px; background: #fafafa; overflow-wrap: anywhere; }
h1 { font-size: 20px; margin: 4px 0; }
h2 { font-size: 17px; margin: 0 0 8px; }
section { background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: 12px; margin: 12px 0; min-width: 0; }
.meta { color: #616161; margin: 0 0 8px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f1f1f1; padding: 0 3px; border-radius: 3px; word-break: break-all; }
.schedule-state { margin: 0; font-weight: 600; } .schedule-state.state-paused, .schedule-state.state-absent { color: #c62828; }
.gate.met { border-left: 8px solid #2e7d32; } .gate.not-met { border-left: 8px solid #c62828; }
.gate.met .gate-headline { color: #2e7d32; } .gate.not-met .gate-headline { color: #c62828; }
.gate-headline { font-size: 22px; }
.streak { font-size: 16px; margin: 0 0 4px; }
.unknown-head { margin: 8px 0 2px; color: #6d4c41; } ul.unknown { margin: 0 0 8px; color: #6d4c41; }
.checklist { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 330px), 1fr)); gap: 8px; margin-top: 8px; }
.card { border: 1px solid #e0e0e0; border-left-width: 6px; border-radius: 6px; padding: 6px 8px; min-width: 0; }
.card-head { margin: 0 0 4px; } .card .when { font-weight: 600; margin-right: 6px; }
ul.marks { list-style: none; padding: 0; margin: 0; font-size: 13px; }
ul.marks .mark { display: inline-block; width: 1.2em; font-weight: 700; }
li.c-passed .mark { color: #2e7d32; } li.c-failed { color: #c62828; } li.c-unknown { color: #6d4c41; }
.problem { margin: 4px 0 0; color: #b71c1c; font-style: italic; }
.verdict-line { margin: 4px 0 0; } .version-change, .vchange { color: #6a1b9a; }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; }
.pill.s-clean { background: #2e7d32; } .pill.s-partial { background: #f9a825; color: #212121; }
.pill.s-failed { background: #c62828; } .pill.s-running { background: #1565c0; }
.lag { color: #616161; font-size: 12px; }
.timeline { display: grid; grid-template-columns: repeat(auto-fill, minmax(104px, 1fr)); gap: 4px; }
.cell { border-radius: 4px; padding: 4px 5px; font-size: 12px; line-height: 1.3; display: flex; flex-direction: column; min-height: 58px; border: 3px solid transparent; }
.cell .when { font-weight: 600; } .cell .what { font-weight: 600; }
.v-counts { background: #c8e6c9; } .v-breaks { background: #ffcdd2; border-color: #c62828; }
.v-fails { background: #ffe0b2; } .v-missed { background: #e0e0e0; } .v-pending { background: #f5f5f5; color: #757575; }
.cell.in-streak { border-color: #1b5e20; }
.card.v-counts { border-left-color: #2e7d32; } .card.v-breaks { border-left-color: #c62828; }
.card.v-pending { border-left-color: #bdbdbd; } .card.v-fails, .card.v-missed { border-left-color: #ef6c00; }
.legend { margin: 6px 0 0; color: #424242; }
.key { margin-right: 12px; white-space: nowrap; display: inline-block; }
.key i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.key i.v-counts { background: #c8e6c9; border: 2px solid #1b5e20; } .key i.v-breaks { background: #ffcdd2; border: 2px solid #c62828; }
.key i.v-fails { background: #ffe0b2; } .key i.v-missed { background: #e0e0e0; } .key i.v-pending { background: #f5f5f5; border: 1px solid #bdbdbd; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 250px), 1fr)); gap: 8px; margin: 0; }
.figure { border: 1px solid #eeeeee; border-radius: 6px; padding: 6px 8px; }
.figure dt { color: #616161; font-size: 12px; } .figure dd { margin: 0; font-size: 15px; font-weight: 600; }
.figure small { display: block; font-weight: 400; color: #757575; font-size: 12px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eeeeee; vertical-align: top; }
th { font-weight: 600; color: #424242; background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.nowrap { white-space: nowrap; }
td small { display: block; color: #757575; }
table.runs { min-width: 640px; } table.items { min-width: 720px; table-layout: fixed; }
table.items td { overflow-wrap: anywhere; }
table.items th:nth-child(1) { width: 36px; } table.items th:nth-child(2) { width: 60px; }
table.items th:nth-child(3) { width: 17%; } table.items th:nth-child(4) { width: 24%; }
.items td.item-title { font-weight: 600; }
.summary { background: #f5f5f5; padding: 8px 10px; border-radius: 6px; }
"""
