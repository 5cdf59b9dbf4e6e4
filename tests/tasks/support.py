"""Runs' task specs built the way a run builds them: a real boundary result from an NDJSON
answer, candidate targets from the seeded State Hub planning state, the real builder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from activity_core.boundary import OutputContract, parse_report
from activity_core.clients.state_hub import Task, Workstream
from activity_core.devstack.state_hub_emulator import seed_planning_state
from activity_core.kinds.instruction.item_models import report_spec
from activity_core.kinds.instruction.task_specs import TasksBlock, build_task_specs, candidate_targets
from activity_core.tasks.spec import SpecBatch

DEFINITION = "daily-statehub-wsjf-triage"
DAY_1 = date(2026, 6, 26)
DAY_2 = date(2026, 6, 27)
DAY_3 = date(2026, 6, 28)


def planning() -> tuple[list[Workstream], list[Task]]:
    """The seeded planning state as the State Hub client returns it (active workstreams, open tasks)."""
    workstreams, tasks = seed_planning_state()
    return (
        [Workstream.model_validate(w) for w in workstreams if w["status"] == "active"],
        [Task.model_validate(t) for t in tasks if t["status"] in ("todo", "wait", "blocked", "active")],
    )


@dataclass(frozen=True)
class Pick:
    candidate: str
    components: tuple[int, int, int, int]  # business value, time criticality, risk reduction, job size
    next_action: str = "Open a task for the owning repo"


def answer(
    picks: list[Pick],
    *,
    local_date: date = DAY_1,
    unknown: Sequence[str] = (),
    rationale: str = "It unblocks the daily run.",
) -> str:
    """An item-framed NDJSON report: the picks, then items naming ids the read did not return."""
    lines: list[dict[str, Any]] = [
        {"type": "summary", "date": local_date.isoformat(), "summary": "Ranked.", "item_count": 0}
    ]
    for rank, pick in enumerate(picks, start=1):
        bv, tc, rr, js = pick.components
        lines.append(
            {
                "type": "item",
                "rank": rank,
                "candidate": pick.candidate,
                "title": f"Recommendation {rank}",
                "wsjf": {"business_value": bv, "time_criticality": tc, "risk_reduction": rr, "job_size": js},
                "rationale": rationale,
                "next_action": pick.next_action,
            }
        )
    for offset, candidate in enumerate(unknown, start=len(picks) + 1):
        lines.append({**lines[1], "rank": offset, "candidate": candidate})
    lines[0]["item_count"] = len(lines) - 1
    lines.append({"type": "end", "item_count": len(lines) - 1})
    return "\n".join(json.dumps(line) for line in lines)


def boundary(content: str, known_refs: set[str]) -> dict[str, Any]:
    """The boundary's result as it crosses Temporal (``to_dict``)."""
    contract = OutputContract(item_schema="report-item.v1", ranking="wsjf")
    return parse_report(content, contract=contract, spec=report_spec(contract), known_refs=known_refs).to_dict()


def block(**overrides: Any) -> TasksBlock:
    fields: dict[str, Any] = {
        "sink": "rest",
        "select": {"top": 3, "min_score": 2},
        "action": "Act on the daily triage's recommendation",
        "labels": ["from:activity-core", "daily-triage"],
    }
    return TasksBlock.model_validate(fields | overrides)


def batch(
    picks: list[Pick],
    *,
    run_id: str,
    local_date: date = DAY_1,
    tasks_block: TasksBlock | None = None,
    workflow_id: str | None = None,
    unknown: Sequence[str] = (),
    rationale: str = "It unblocks the daily run.",
    scrub=lambda text: text,
) -> SpecBatch:
    workstreams, tasks = planning()
    targets = candidate_targets(workstreams, tasks)
    result = boundary(answer(picks, local_date=local_date, unknown=unknown, rationale=rationale), set(targets))
    return build_task_specs(
        tasks_block or block(),
        definition_id=DEFINITION,
        workflow_id=workflow_id or f"{DEFINITION}-{local_date.isoformat()}T07:20:00Z",
        run_id=run_id,
        local_date=local_date,
        boundary=result,
        targets=targets,
        scrub=scrub,
    )


def three_picks() -> list[Pick]:
    """Three workstreams in three repos, above the threshold, and one below it."""
    workstreams, _ = planning()
    by_repo: dict[str, Workstream] = {}
    for ws in workstreams:
        by_repo.setdefault(ws.repo or "", ws)
    chosen = [by_repo["activity-core"], by_repo["llm-connect"], by_repo["state-hub"]]
    return [
        Pick(chosen[0].id, (13, 8, 5, 3)),
        Pick(chosen[1].id, (8, 8, 3, 3)),
        Pick(chosen[2].id, (5, 3, 2, 2)),
        Pick(by_repo["ops-warden"].id, (1, 1, 1, 13)),  # 0.23: below min_score 2
    ]
