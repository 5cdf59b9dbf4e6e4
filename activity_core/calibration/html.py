"""The calibration report as one self-contained static HTML page. Pure.

Inline CSS and inline SVG only: the file opens from a mail attachment or an artifact store
with no network and no JavaScript. Its Content-Security-Policy forbids scripts and every
fetch, and every piece of text is HTML-escaped, because much of it (titles, rationales,
snippets) was written by a model and must stay text even if it looks like markup.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

from activity_core.calibration.gate import GateReport, Piece, TickEvidence
from activity_core.definitions.base import DefinitionBase
from activity_core.store.models import RunRecord

_WIDTH = 920
_CHART_HEIGHT = 170
_LEFT = 48  # room for the y axis labels
_REASON_COLOURS = ("#8e24aa", "#ef6c00", "#00838f", "#6d4c41", "#3949ab", "#c0ca33", "#d81b60", "#546e7a")


@dataclass(frozen=True)
class Day:
    """One scheduled day of the timeline: its tick and run, or why it has none."""

    tick: datetime
    local_date: date
    run: RunRecord | None
    pending: bool = False
    before_history: bool = False

    @property
    def state(self) -> str:
        if self.run is not None:
            return self.run.status
        if self.before_history:
            return "no-history"
        return "pending" if self.pending else "missed"


@dataclass(frozen=True)
class ReportData:
    definition: DefinitionBase
    gate: GateReport
    days: list[Day]
    """Oldest first, as the timeline reads left to right."""
    latest: RunRecord | None
    """The newest run that produced a ranked report."""
    generated_at: datetime


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _state_class(state: str) -> str:
    return "s-failed" if state.startswith("failed_") else f"s-{state}"


def render_html(data: ReportData) -> str:
    definition = data.definition
    zone = ZoneInfo(definition.schedule.time_zone)
    title = f"Daily triage calibration: {definition.title}"
    sections = [
        _gate_section(data.gate),
        _timeline_section(data.days),
        _quarantine_section(data.days),
        _latency_section(data.days, budget_s=definition.llm.call_timeout_seconds),
        _latest_section(data.latest),
    ]
    spec = definition.schedule
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
<p class="meta">definition <code>{_e(definition.id)}</code> · scheduled {_e(spec.describe())}
· generated {_e(data.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"))}</p>
</header>
{"".join(sections)}
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
    rows = "".join(_checklist_row(tick, broke=index == gate.broken_at) for index, tick in enumerate(shown))
    return f"""<section class="gate {met}" id="gate">
<h2 class="gate-headline">{headline}</h2>
<p class="streak"><strong>streak {gate.streak}</strong> of {gate.required} required clean consecutive scheduled runs</p>
<p>{ended}</p>
{f'<p class="unknown-head">Could not check (counted as not passed):</p><ul class="unknown">{unknown_html}</ul>' if unknown_html else ""}
<table class="checklist">
<thead><tr><th>tick</th><th>run</th>{"".join(f"<th>{p.value}</th>" for p in Piece)}<th>feedback</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</section>
"""


def _checklist_row(tick: TickEvidence, *, broke: bool) -> str:
    if tick.run is None:
        run = "pending" if tick.pending else "<strong>missed</strong>"
        cells = f'<td colspan="{len(Piece)}" class="problem">{_e(tick.problem())}</td>'
    else:
        run = f'run {tick.run.row_id} <span class="pill {_state_class(tick.run.status)}">{_e(tick.run.status)}</span>'
        cells = "".join(_evidence_cell(tick, piece) for piece in Piece)
    feedback = "<br>".join(
        f"{_e(f.verdict)}{' by ' + _e(f.reviewer) if f.reviewer else ''}{': ' + _e(f.note) if f.note else ''}"
        for f in tick.feedback
    )
    return f'<tr class="{"broke" if broke else ""}"><td>{tick.local_date}</td><td>{run}</td>{cells}<td>{feedback}</td></tr>'


def _evidence_cell(tick: TickEvidence, piece: Piece) -> str:
    evidence = tick.evidence.get(piece)
    if evidence is None:
        return '<td class="c-none">–</td>'
    return f'<td class="c-{evidence.check.value}" title="{_e(evidence.detail)}">{evidence.check.mark}</td>'


# --- charts ----------------------------------------------------------------------------


def _x_layout(count: int) -> tuple[float, float]:
    """Slot width and the bar width inside it, for ``count`` days across the chart."""
    slot = (_WIDTH - _LEFT - 8) / max(count, 1)
    return slot, max(slot * 0.78, 1.0)


def _date_labels(days: list[Day], y: float) -> str:
    slot, _ = _x_layout(len(days))
    every = max(1, round(len(days) / 8))
    return "".join(
        f'<text class="axis" x="{_LEFT + i * slot + slot / 2:.1f}" y="{y:.1f}" text-anchor="middle">{day.local_date.strftime("%m-%d")}</text>'
        for i, day in enumerate(days)
        if (len(days) - 1 - i) % every == 0
    )


def _timeline_section(days: list[Day]) -> str:
    slot, bar = _x_layout(len(days))
    cells = []
    for i, day in enumerate(days):
        x = _LEFT + i * slot + (slot - bar) / 2
        label = f"{day.local_date}: {day.state}"
        if day.run is not None:
            label += f" (run {day.run.id}, {day.run.items_kept or 0} kept, {day.run.items_quarantined or 0} quarantined)"
        cells.append(
            f'<rect class="cell {_state_class(day.state)}" data-date="{day.local_date}" data-state="{_e(day.state)}" '
            f'x="{x:.1f}" y="8" width="{bar:.1f}" height="34" rx="3"><title>{_e(label)}</title></rect>'
        )
        if day.state == "missed":
            cells.append(
                f'<path class="missed-x" d="M{x + 2:.1f} 12 L{x + bar - 2:.1f} 38 M{x + bar - 2:.1f} 12 L{x + 2:.1f} 38"/>'
            )
    legend = "".join(
        f'<span class="key"><i class="{cls}"></i>{name}</span>'
        for name, cls in (("clean", "s-clean"), ("partial", "s-partial"), ("failed", "s-failed"), ("running", "s-running"),
                          ("missed", "s-missed"), ("pending", "s-pending"), ("before history", "s-no-history"))
    )
    counts = Counter(day.state if not day.state.startswith("failed_") else "failed" for day in days)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    return f"""<section id="timeline">
<h2>Last {len(days)} scheduled days</h2>
<p class="meta">{_e(summary)}</p>
<svg class="chart" viewBox="0 0 {_WIDTH} 64" width="{_WIDTH}" height="64" role="img" aria-label="timeline of scheduled runs">
{"".join(cells)}
{_date_labels(days, 58)}
</svg>
<p class="legend">{legend}</p>
</section>
"""


def _quarantine_section(days: list[Day]) -> str:
    reasons = sorted({str(q.get("reason")) for d in days if d.run for q in d.run.quarantined or []})
    colour = {reason: _REASON_COLOURS[i % len(_REASON_COLOURS)] for i, reason in enumerate(reasons)}
    per_day = [Counter(str(q.get("reason")) for q in (d.run.quarantined or [])) if d.run else Counter() for d in days]
    peak = max([sum(c.values()) for c in per_day] + [1])
    slot, bar = _x_layout(len(days))
    top, height = 10, _CHART_HEIGHT - 40
    shapes, rate_points = [], []
    for i, (day, counts) in enumerate(zip(days, per_day, strict=True)):
        x = _LEFT + i * slot + (slot - bar) / 2
        y = top + height
        for reason in reasons:
            if counts[reason]:
                h = counts[reason] / peak * height
                y -= h
                shapes.append(
                    f'<rect class="qbar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour[reason]}">'
                    f"<title>{_e(f'{day.local_date}: {counts[reason]} {reason}')}</title></rect>"
                )
        kept, quarantined = (day.run.items_kept or 0, day.run.items_quarantined or 0) if day.run else (0, 0)
        if kept + quarantined:
            rate = quarantined / (kept + quarantined)
            rate_points.append(f"{_LEFT + i * slot + slot / 2:.1f},{top + height - rate * height:.1f}")
    totals = sum(per_day, Counter())
    kept_total = sum(d.run.items_kept or 0 for d in days if d.run)
    quarantined_total = sum(d.run.items_quarantined or 0 for d in days if d.run)
    overall = quarantined_total / (kept_total + quarantined_total) if kept_total + quarantined_total else 0.0
    legend = "".join(
        f'<span class="key"><i style="background:{colour[r]}"></i>{_e(r)} ({totals[r]})</span>' for r in reasons
    ) or "no item was quarantined in these days"
    line = f'<polyline class="rate" points="{" ".join(rate_points)}"/>' if len(rate_points) > 1 else ""
    return f"""<section id="quarantine">
<h2>Quarantine rate and reasons</h2>
<p class="meta">{quarantined_total} of {kept_total + quarantined_total} items quarantined ({overall:.0%}); bars: quarantined items per day by reason (left axis, peak {peak}); line: share of the day's items quarantined (right axis, 0–100%)</p>
<svg class="chart" viewBox="0 0 {_WIDTH} {_CHART_HEIGHT}" width="{_WIDTH}" height="{_CHART_HEIGHT}" role="img" aria-label="quarantined items per day">
<line class="grid" x1="{_LEFT}" y1="{top}" x2="{_WIDTH - 8}" y2="{top}"/>
<line class="axisline" x1="{_LEFT}" y1="{top + height}" x2="{_WIDTH - 8}" y2="{top + height}"/>
<text class="axis" x="{_LEFT - 6}" y="{top + 4}" text-anchor="end">{peak}</text>
<text class="axis" x="{_LEFT - 6}" y="{top + height}" text-anchor="end">0</text>
<text class="axis" x="{_WIDTH - 10}" y="{top + 12}" text-anchor="end">100%</text>
{"".join(shapes)}
{line}
{_date_labels(days, _CHART_HEIGHT - 14)}
</svg>
<p class="legend">{legend}</p>
</section>
"""


def _latency_section(days: list[Day], *, budget_s: int) -> str:
    latencies = [(d.run.llm_latency_ms / 1000) if d.run and d.run.llm_latency_ms is not None else None for d in days]
    known = [s for s in latencies if s is not None]
    scale = max([budget_s * 1.1, *known])
    slot, bar = _x_layout(len(days))
    top, height = 10, _CHART_HEIGHT - 40
    bars = []
    for i, (day, seconds) in enumerate(zip(days, latencies, strict=True)):
        if seconds is None:
            continue
        h = max(seconds / scale * height, 1.0)
        over = " over" if seconds > budget_s else ""
        bars.append(
            f'<rect class="lbar{over}" x="{_LEFT + i * slot + (slot - bar) / 2:.1f}" y="{top + height - h:.1f}" '
            f'width="{bar:.1f}" height="{h:.1f}"><title>{day.local_date}: {seconds:.1f} s</title></rect>'
        )
    budget_y = top + height - budget_s / scale * height
    stats = (
        f"median {sorted(known)[len(known) // 2]:.1f} s, max {max(known):.1f} s over {len(known)} runs"
        if known else "no LLM call recorded in these days"
    )
    return f"""<section id="latency">
<h2>LLM latency against the {budget_s} s budget</h2>
<p class="meta">{stats}</p>
<svg class="chart" viewBox="0 0 {_WIDTH} {_CHART_HEIGHT}" width="{_WIDTH}" height="{_CHART_HEIGHT}" role="img" aria-label="LLM latency per day">
<line class="axisline" x1="{_LEFT}" y1="{top + height}" x2="{_WIDTH - 8}" y2="{top + height}"/>
<text class="axis" x="{_LEFT - 6}" y="{top + height}" text-anchor="end">0 s</text>
{"".join(bars)}
<line class="budget" x1="{_LEFT}" y1="{budget_y:.1f}" x2="{_WIDTH - 8}" y2="{budget_y:.1f}"/>
<text class="axis budget-label" x="{_LEFT - 6}" y="{budget_y + 4:.1f}" text-anchor="end">{budget_s} s</text>
{_date_labels(days, _CHART_HEIGHT - 14)}
</svg>
</section>
"""


# --- the latest report -----------------------------------------------------------------


def _latest_section(latest: RunRecord | None) -> str:
    if latest is None:
        return '<section id="latest"><h2>Latest ranked report</h2><p>No run has produced a report yet.</p></section>\n'
    rows = "".join(
        f"<tr><td class=\"num\">{_e(item.get('rank'))}</td><td class=\"num\">{_e(item.get('computed_score'))}</td>"
        f"<td><code>{_e(item.get('candidate'))}</code></td><td class=\"item-title\">{_e(item.get('title'))}</td>"
        f"<td>{_e(item.get('rationale'))}</td><td>{_e(item.get('next_action'))}</td></tr>"
        for item in latest.items or []
    )
    summary = f'<p class="summary">{_e(latest.summary)}</p>' if latest.summary else ""
    return f"""<section id="latest">
<h2>Latest ranked report: {latest.local_date} <span class="pill {_state_class(latest.status)}">{_e(latest.status)}</span></h2>
<p class="meta">run {latest.id} ({_e(latest.trigger)}) · {latest.items_kept or 0} kept, {latest.items_quarantined or 0} quarantined · workflow <code>{_e(latest.workflow_id)}</code></p>
{summary}
<table class="items">
<thead><tr><th>#</th><th>WSJF</th><th>candidate</th><th>title</th><th>rationale</th><th>next action</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</section>
"""


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121; margin: 0 auto; max-width: 980px; padding: 20px 24px 48px; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 8px; }
section { background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: 16px 18px; margin: 16px 0; overflow-x: auto; }
.meta { color: #616161; margin: 0 0 8px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f1f1f1; padding: 0 3px; border-radius: 3px; word-break: break-all; }
.gate.met { border-left: 8px solid #2e7d32; }
.gate.not-met { border-left: 8px solid #c62828; }
.gate.met .gate-headline { color: #2e7d32; }
.gate.not-met .gate-headline { color: #c62828; }
.streak { font-size: 16px; margin: 0 0 4px; }
.unknown-head { margin: 8px 0 2px; color: #6d4c41; }
ul.unknown { margin: 0 0 8px; color: #6d4c41; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eeeeee; vertical-align: top; }
th { font-weight: 600; color: #424242; background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.checklist td:first-child { white-space: nowrap; }
table.items { table-layout: fixed; }
table.items td { overflow-wrap: anywhere; }
table.items th:nth-child(1) { width: 28px; } table.items th:nth-child(2) { width: 52px; }
table.items th:nth-child(3) { width: 17%; } table.items th:nth-child(4) { width: 24%; }
.checklist td.c-passed { color: #2e7d32; font-weight: 700; text-align: center; }
.checklist td.c-failed { color: #c62828; font-weight: 700; text-align: center; background: #ffebee; }
.checklist td.c-unknown { color: #6d4c41; font-weight: 700; text-align: center; background: #fff8e1; }
.checklist td.c-none { color: #9e9e9e; text-align: center; }
.checklist td.problem { color: #616161; font-style: italic; }
.checklist tr.broke { outline: 2px solid #c62828; }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; }
.pill.s-clean { background: #2e7d32; } .pill.s-partial { background: #f9a825; color: #212121; }
.pill.s-failed { background: #c62828; } .pill.s-running { background: #1565c0; }
svg.chart { display: block; max-width: 100%; height: auto; }
rect.s-clean { fill: #2e7d32; } rect.s-partial { fill: #f9a825; } rect.s-failed { fill: #c62828; }
rect.s-running { fill: #1565c0; } rect.s-missed { fill: #9e9e9e; } rect.s-pending { fill: #e0e0e0; }
rect.s-no-history { fill: #f3f3f3; stroke: #e0e0e0; }
path.missed-x { stroke: #fff; stroke-width: 2; }
.axis { font-size: 11px; fill: #757575; }
line.axisline { stroke: #bdbdbd; } line.grid { stroke: #eeeeee; }
line.budget { stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 6 4; }
.budget-label { fill: #c62828; }
rect.lbar { fill: #1565c0; } rect.lbar.over { fill: #c62828; }
polyline.rate { fill: none; stroke: #212121; stroke-width: 1.5; }
.legend { margin: 6px 0 0; color: #424242; }
.key { margin-right: 14px; white-space: nowrap; }
.key i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.key i.s-clean { background: #2e7d32; } .key i.s-partial { background: #f9a825; } .key i.s-failed { background: #c62828; }
.key i.s-running { background: #1565c0; } .key i.s-missed { background: #9e9e9e; } .key i.s-pending { background: #e0e0e0; }
.key i.s-no-history { background: #f3f3f3; border: 1px solid #e0e0e0; }
.items td.item-title { font-weight: 600; }
.summary { background: #f5f5f5; padding: 8px 10px; border-radius: 6px; }
"""
