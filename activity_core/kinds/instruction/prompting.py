"""Turning State Hub's planning state into the triage prompt. Pure functions, no I/O.

The prompt carries a bounded, ordered slice of the planning state; the full id set is the
boundary's reference allow-list. State Hub text is data from other people and agents, so it
is flattened to one line per entry and the frame markers are neutralised: nothing in a
title can end the data block and start speaking as instructions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

CONTEXT_BEGIN = "BEGIN PLANNING STATE"
CONTEXT_END = "END PLANNING STATE"
_TEXT_LIMIT = 160
_PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_STATUS_ORDER = {"active": 0, "blocked": 1, "wait": 2, "todo": 3}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


class WorkstreamLike(Protocol):
    id: str
    slug: str
    title: str
    status: str
    planning_priority: str | None
    planning_order: int | None


class TaskLike(Protocol):
    id: str
    key: str
    title: str
    status: str
    priority: str | None
    workstream_id: str | None


@dataclass(frozen=True)
class BoundedContext:
    text: str
    known_refs: list[str]
    workstreams_in_prompt: int
    tasks_in_prompt: int


def _flat(text: str | None) -> str:
    """One line, bounded, with the frame markers defused."""
    flat = _UNSAFE.sub(" ", text or "").strip()
    for marker in (CONTEXT_BEGIN, CONTEXT_END):
        flat = re.sub(re.escape(marker), marker.lower(), flat, flags=re.IGNORECASE)
    return flat[:_TEXT_LIMIT]


def _workstream_rank(ws: WorkstreamLike) -> tuple[int, int, str]:
    return (_PRIORITY_ORDER.get(ws.planning_priority or "", 3), ws.planning_order or 10_000, ws.id)


def _task_rank(task: TaskLike) -> tuple[int, int, str]:
    return (_STATUS_ORDER.get(task.status, 4), _PRIORITY_ORDER.get(task.priority or "", 3), task.id)


def bound_context(
    workstreams: Sequence[WorkstreamLike],
    tasks: Sequence[TaskLike],
    *,
    max_workstreams: int,
    max_tasks: int,
) -> BoundedContext:
    """Pick what the model sees: the highest-priority workstreams and the most pressing tasks."""
    shown_ws = sorted(workstreams, key=_workstream_rank)[:max_workstreams]
    shown_tasks = sorted(tasks, key=_task_rank)[:max_tasks]
    # Tasks name their workstream by slug: every id in the prompt is then a valid candidate.
    slugs = {ws.id: _flat(ws.slug) for ws in workstreams}
    lines = [
        f"- workstream {ws.id} | {_flat(ws.slug)} | {_flat(ws.title)} | "
        f"priority={_flat(ws.planning_priority) or 'unset'} order={ws.planning_order if ws.planning_order is not None else 'unset'}"
        for ws in shown_ws
    ]
    lines += [
        f"- task {t.id} | {_flat(t.key)} | {_flat(t.title)} | status={_flat(t.status)} "
        f"priority={_flat(t.priority) or 'unset'} | workstream={slugs.get(t.workstream_id or '', 'other')}"
        for t in shown_tasks
    ]
    known = sorted({ws.id for ws in workstreams} | {t.id for t in tasks})
    return BoundedContext(
        text="\n".join(lines),
        known_refs=known,
        workstreams_in_prompt=len(shown_ws),
        tasks_in_prompt=len(shown_tasks),
    )


def render_prompt(
    template: str,
    *,
    local_date: str,
    top_n: int,
    context: str,
    item_schema: str,
    reask_feedback: str | None = None,
) -> str:
    prompt = template.format(date=local_date, top_n=top_n, context=context, item_schema=item_schema)
    if reask_feedback:
        prompt += (
            "\n\nYour previous answer could not be used; no item survived validation. "
            "What was wrong:\n" + reask_feedback + "\nAnswer again, following the output contract exactly."
        )
    return prompt
