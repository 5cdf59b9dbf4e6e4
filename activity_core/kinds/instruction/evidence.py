"""What a run tells State Hub: the progress event and the working-memory note. Pure.

Both are read by people and by other agents, so they carry the kept report, bounded
quarantine provenance and the failure class, and never a prompt body, a token or a
provider credential (the inputs here never contain one).
"""

from __future__ import annotations

from typing import Any

from activity_core.runs.models import RunOutcome

SOURCE = "activity-core"
_SNIPPET_LIMIT = 512
_MAX_QUARANTINE_IN_EVIDENCE = 20


def _items(outcome: RunOutcome) -> list[dict[str, Any]]:
    return list((outcome.boundary or {}).get("items", []))


def _quarantined(outcome: RunOutcome) -> list[dict[str, Any]]:
    return list((outcome.boundary or {}).get("quarantined", []))


def _bounded_quarantine(outcome: RunOutcome) -> list[dict[str, Any]]:
    return [
        {
            "where": q.get("line") if q.get("line") is not None else q.get("index"),
            "reason": q.get("reason"),
            "detail": str(q.get("detail", ""))[:_SNIPPET_LIMIT],
            "snippet": str(q.get("snippet", ""))[:_SNIPPET_LIMIT],
        }
        for q in _quarantined(outcome)[:_MAX_QUARANTINE_IN_EVIDENCE]
    ]


def progress_summary(outcome: RunOutcome) -> str:
    kept, quarantined = len(_items(outcome)), len(_quarantined(outcome))
    head = f"Daily WSJF triage {outcome.local_date} ({outcome.trigger}): {outcome.status}"
    if outcome.status.startswith("failed_"):
        return f"{head}: {outcome.error_message or 'no detail'}"[:1000]
    return f"{head}, {kept} item(s) kept, {quarantined} quarantined"


def progress_payload(outcome: RunOutcome) -> dict[str, Any]:
    boundary = outcome.boundary or {}
    return {
        "definition_id": outcome.definition_id,
        "workflow_id": outcome.workflow_id,
        "run_id": outcome.run_id,
        "trigger": outcome.trigger,
        "local_date": outcome.local_date,
        "status": outcome.status,
        "failure_class": outcome.status if outcome.status.startswith("failed_") else None,
        "error_message": outcome.error_message,
        "framing": boundary.get("framing"),
        "truncated": boundary.get("truncated"),
        "counts": boundary.get("counts", {}),
        "items": [
            {k: item.get(k) for k in ("rank", "candidate", "title", "computed_score", "next_action")}
            for item in _items(outcome)
        ],
        "quarantined": _bounded_quarantine(outcome),
        "llm": None
        if outcome.llm is None
        else {
            "model": outcome.llm.model,
            "finish_reason": outcome.llm.finish_reason,
            "latency_ms": outcome.llm.latency_ms,
            "attempts": outcome.llm.attempts,
            "usage": outcome.llm.usage,
        },
        "reasks": outcome.reasks,
    }


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def note_markdown(outcome: RunOutcome) -> str:
    boundary = outcome.boundary or {}
    lines = [
        f"# Daily WSJF triage, {outcome.local_date}",
        "",
        f"- status: **{outcome.status}**",
        f"- trigger: {outcome.trigger}",
        f"- workflow: `{outcome.workflow_id}` (run `{outcome.run_id}`)",
    ]
    if outcome.error_message:
        lines.append(f"- error: {_cell(outcome.error_message)}")
    if boundary.get("summary"):
        lines += ["", "## Summary", "", _cell(boundary["summary"])]
    items = _items(outcome)
    if items:
        lines += ["", "## Ranked recommendations", "", "| # | candidate | title | WSJF | next action |", "|---|---|---|---|---|"]
        lines += [
            f"| {i.get('rank')} | `{_cell(i.get('candidate'))}` | {_cell(i.get('title'))} | "
            f"{i.get('computed_score')} | {_cell(i.get('next_action'))} |"
            for i in items
        ]
    quarantine = _bounded_quarantine(outcome)
    if quarantine:
        lines += ["", f"## Quarantined ({len(_quarantined(outcome))})", ""]
        lines += [f"- {q['where']}: `{q['reason']}`: {_cell(q['detail'])}" for q in quarantine]
    if boundary.get("truncated"):
        lines += ["", "The model's answer was truncated; only whole items before the cut were kept."]
    return "\n".join(lines) + "\n"
