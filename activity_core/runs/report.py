"""A run as an operator reads it in a terminal: status first, then the ranked report. Pure.

Item text and quarantined snippets come from the model, so every value is flattened to one
line and stripped of control characters before it reaches the terminal: an answer must not
be able to move the cursor, recolour the screen or fake a line of this report.
"""

from __future__ import annotations

import json

from activity_core.store.models import RunRecord

_WIDTH = 72


def _visible(ch: str) -> str:
    return ch if ch.isprintable() else ascii(ch)[1:-1]


def clip(text: object, width: int) -> str:
    """``text`` on one line of at most ``width`` characters, control characters escaped."""
    flat = "".join(map(_visible, " ".join(str(text if text is not None else "").split())))
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def temporal_show_command(record: RunRecord, address: str | None = None) -> str:
    """The command that opens the run's history; with ``address`` it can be pasted as is."""
    command = f"temporal workflow show --workflow-id {record.workflow_id} --run-id {record.run_id}"
    return f"{command} --address {address}" if address else command


def _compact(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": ")) if value else "-"


def _llm_line(record: RunRecord) -> str:
    """What is known of the LLM call; a run that failed before llm-connect answered knows little."""
    latency = None if record.llm_latency_ms is None else f"{record.llm_latency_ms} ms"
    known = [
        ("model", clip(record.llm_model, 80) if record.llm_model else None),
        ("provider", clip(record.llm_provider, 80) if record.llm_provider else None),
        ("finish_reason", clip(record.llm_finish_reason, 40) if record.llm_finish_reason else None),
        ("latency", latency),
        ("attempts", record.llm_attempts),
        ("reasks", record.reasks),
    ]
    parts = [f"{name}={value}" for name, value in known if value is not None]
    return "llm: " + (" ".join(parts) if parts else "no call recorded")


def _evidence_line(record: RunRecord) -> str:
    parts = []
    if record.progress_event_id:
        parts.append(f"progress_event={record.progress_event_id}")
    if record.note_key:
        parts.append(f"note={record.note_key}" + (f" ({record.note_id})" if record.note_id else ""))
    return "evidence: " + (" ".join(parts) if parts else "none posted")


def render_run(record: RunRecord, *, show_raw_hint: bool = True, temporal_address: str | None = None) -> str:
    lines = [
        f"run {record.id}  {record.definition_id}  {record.local_date}  ({record.trigger})",
        f"status: {record.status}" + (f"  {clip(record.error_message, 400)}" if record.error_message else ""),
        f"workflow: {record.workflow_id}  run: {record.run_id}",
        f"started: {record.started_at.isoformat()}  finished: "
        + (record.finished_at.isoformat() if record.finished_at else "-")
        + (f"  scheduled: {record.scheduled_at.isoformat()}" if record.scheduled_at else ""),
    ]
    if record.summary:
        lines += ["", "summary: " + clip(record.summary, 400)]
    items = record.items or []
    if items:
        lines += ["", f"{'#':>2}  {'score':>6}  {'candidate':<36}  title"]
        for item in items:
            lines.append(
                f"{clip(item.get('rank', '?'), 2):>2}  {clip(item.get('computed_score', ''), 6):>6}  "
                f"{clip(item.get('candidate'), 36):<36}  {clip(item.get('title'), _WIDTH)}"
            )
            if item.get("next_action"):
                lines.append(f"{'':>48}next: {clip(item.get('next_action'), _WIDTH)}")
    quarantined = record.quarantined or []
    if quarantined:
        lines += ["", f"quarantined ({len(quarantined)}):"]
        for entry in quarantined:
            where = entry.get("line") if entry.get("line") is not None else entry.get("index")
            lines.append(f"  - at {where}: {clip(entry.get('reason'), 40)}: {clip(entry.get('detail'), 120)}")
            if entry.get("snippet"):
                lines.append(f"      snippet: {clip(entry.get('snippet'), 120)}")
    if record.truncated:
        lines.append("the model's answer was truncated; whole items before the cut were kept")
    lines += [
        "",
        _llm_line(record),
        f"usage: {clip(_compact(record.llm_usage), 200)}",
        f"timings: {clip(_compact(record.timings), 200)}",
        _evidence_line(record),
        f"history: {temporal_show_command(record, temporal_address)}",
    ]
    if show_raw_hint and record.raw_content:
        lines.append(f"replay: the raw answer is kept in the row ({len(record.raw_content)} chars)")
    return "\n".join(lines)
