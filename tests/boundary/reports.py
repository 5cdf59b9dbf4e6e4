"""Builders for report lines, so each test states only what it varies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from activity_core.boundary import OutputContract
from activity_core.kinds.instruction.item_models import report_spec

FIXTURES = Path(__file__).parent / "fixtures"
REFS = [f"ws-{n}" for n in range(1, 31)]
TRIAGE_OUTPUT = OutputContract(item_schema="report-item.v1", ranking="wsjf")
SPEC = report_spec(TRIAGE_OUTPUT)
"""The daily triage's item model and WSJF ranking: what these tests read reports with."""


def contract(**changes: Any) -> OutputContract:
    """The triage's output contract (defaults), with ``changes``."""
    return OutputContract(**{"item_schema": "report-item.v1", "ranking": "wsjf", **changes})


def item(rank: int = 1, candidate: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "item",
        "rank": rank,
        "candidate": candidate if candidate is not None else REFS[rank - 1],
        "title": f"Recommendation {rank}",
        "wsjf": {"business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": rank % 4 + 1},
        "rationale": "Small, unblocked, and the streak depends on it.",
        "next_action": "Start today and post progress.",
    }
    body.update(fields)
    return body


def envelope(count: int = 3, summary: str = "Three recommendations.") -> dict[str, Any]:
    return {"type": "summary", "date": "2026-06-26", "summary": summary, "item_count": count}


def trailer(count: int = 3) -> dict[str, Any]:
    return {"type": "end", "item_count": count}


def line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def report(*items: dict[str, Any] | str, framed: bool = True) -> str:
    """Envelope, the items (dicts, or raw lines as given), trailer; one per line."""
    body = [raw if isinstance(raw, str) else line(raw) for raw in items]
    if not framed:
        return "\n".join(body)
    count = min(sum(not isinstance(raw, str) for raw in items), 20)
    return "\n".join([line(envelope(count)), *body, line(trailer(count))])


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def fixture_refs() -> list[str]:
    return json.loads(fixture("refs.json"))
