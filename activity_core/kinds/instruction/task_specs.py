"""The instruction kind's ``tasks:`` block, and the task specs a run builds from it.

Which accepted items become tasks (the best ``select.top`` whose computed score reaches
``select.min_score``), where they go (the repo State Hub names for the candidate's
workstream), what they say (templates), and what happens when a recommendation recurs
while its task is open. Quarantined items never become tasks; the ones the reference
allow-list rejected, and selected items with no repo to go to (or one ``target_repos``
does not allow), are kept in the log as ``not_emitted`` with the reason.

Inputs are plain data, so the builder runs inside whichever activity emits the specs:
the boundary's result as it crosses Temporal (a dict) and the candidate targets the
read-context step derives from what State Hub returned (``candidate_targets``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from activity_core.boundary.contract import HARD_MAX_ITEMS
from activity_core.boundary.reasons import QuarantineReason
from activity_core.kinds.instruction.wsjf import MAX_WSJF_SCORE
from activity_core.settings import SinkType
from activity_core.tasks.spec import NotEmitted, NotEmittedReason, OnRecurrence, SpecBatch, TaskSpec

SOURCE_PREFIX = "activity-core"
# Bounds on what a task carries of the producer's text (issue-core's own limits are not
# published; these stay well inside the ones its emulator enforces).
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 16_000
MAX_COMMENT_CHARS = 4_000

PLACEHOLDERS = frozenset(
    {
        "title", "rationale", "next_action", "candidate", "candidate_key", "candidate_title", "workstream",
        "repo", "rank", "score", "business_value", "time_criticality", "risk_reduction", "job_size",
        "date", "definition", "run",
    }
)  # fmt: skip
# A literal brace ({{ or }}) or a placeholder; the alternation order makes {{x}} the text {x}.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_CANDIDATE_IN_SNIPPET = re.compile(r'"candidate"\s*:\s*"([^"\\]{1,128})"')
_ONE_LINE = re.compile(r"\s+")

DEFAULT_TITLE = "{title}"
DEFAULT_BODY = """\
{rationale}

**Next action:** {next_action}

WSJF {score} (business value {business_value}, time criticality {time_criticality}, \
risk reduction {risk_reduction}, job size {job_size}); rank {rank} in the {date} run of `{definition}`.
State Hub: {candidate_key} ({candidate}). Run: {run}.
"""
DEFAULT_COMMENT = "Recommended again (rank {rank}, WSJF {score}) by the {date} run of `{definition}`: {next_action}"


def _check_template(template: str) -> str:
    """Only the known ``{name}`` placeholders (``{{`` and ``}}`` for literal braces): no format
    specs, no attribute access, nothing a definition could use to reach into the process."""
    names = {m.group(1) for m in _TOKEN.finditer(template) if m.group(1) is not None}
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        shown = ", ".join("{" + name + "}" for name in unknown)
        raise ValueError(f"unknown placeholder(s) {shown}; known: {', '.join(sorted(PLACEHOLDERS))}")
    rest = _TOKEN.sub("", template)
    if "{" in rest or "}" in rest:
        raise ValueError("a brace outside a {placeholder}: write {{ or }} for a literal one")
    return template


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill a checked template; the values are inserted as they are, never interpreted."""
    return _TOKEN.sub(lambda m: values[m.group(1)] if m.group(1) is not None else m.group(0)[0], template)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskSelection(_Strict):
    top: int = Field(default=3, ge=1, le=HARD_MAX_ITEMS, description="At most this many of the best accepted items.")
    min_score: float = Field(
        default=0, ge=0, le=MAX_WSJF_SCORE, description="Only items whose computed WSJF score is at least this."
    )


class TasksBlock(_Strict):
    """The ``tasks:`` block of an instruction definition."""

    sink: SinkType = Field(
        default=SinkType.NULL,
        description="Where this definition's specs go, lowered to the deployment's ISSUE_SINK_TYPE.",
    )
    select: TaskSelection = Field(default_factory=TaskSelection)
    action: str = Field(
        min_length=3,
        max_length=300,
        description="What each task asks, in words that stay the same from day to day: with the repo it "
        "makes the fingerprint of the task's key, so a rephrased recommendation is not filed again.",
    )
    target_repos: list[str] | None = Field(
        default=None, description="Repos tasks may be filed in; unset: any repo State Hub names."
    )
    title: str = Field(default=DEFAULT_TITLE, min_length=1)
    body: str = Field(default=DEFAULT_BODY, min_length=1)
    comment: str = Field(
        default=DEFAULT_COMMENT, min_length=1, description="Posted on the open task when on_recurrence is comment."
    )
    labels: list[str] = Field(default_factory=list)
    review_required: bool = Field(
        default=False, description="Audit and report metadata only: never sent to issue-core."
    )
    on_recurrence: OnRecurrence = Field(
        default="skip", description="While the task is open, a recurring recommendation is skipped or comments on it."
    )

    @field_validator("title", "body", "comment")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return _check_template(value)

    @field_validator("labels")
    @classmethod
    def _non_empty_labels(cls, value: list[str]) -> list[str]:
        if not all(label.strip() for label in value):
            raise ValueError("labels must not be empty")
        return value


# --- what the read-context step hands over -----------------------------------------------


class CandidateTarget(_Strict):
    """Where a task about one State Hub id goes: its workstream's repo, as State Hub returned it."""

    id: str
    kind: Literal["workstream", "task"]
    key: str = Field(description="The task's key, or the workstream's slug.")
    title: str
    workstream_id: str | None
    workstream_slug: str | None
    repo: str | None


class _WorkstreamLike(Protocol):
    id: str
    slug: str
    title: str
    repo: str | None


class _TaskLike(Protocol):
    id: str
    key: str
    title: str
    workstream_id: str | None


def candidate_targets(workstreams: Sequence[_WorkstreamLike], tasks: Sequence[_TaskLike]) -> dict[str, CandidateTarget]:
    """Every id the read returned, mapped to its workstream and repo (a task: its workstream's)."""
    by_id = {ws.id: ws for ws in workstreams}
    targets = {
        ws.id: CandidateTarget(
            id=ws.id,
            kind="workstream",
            key=ws.slug,
            title=ws.title,
            workstream_id=ws.id,
            workstream_slug=ws.slug,
            repo=ws.repo,
        )
        for ws in workstreams
    }
    for task in tasks:
        ws = by_id.get(task.workstream_id or "")
        targets[task.id] = CandidateTarget(
            id=task.id,
            kind="task",
            key=task.key,
            title=task.title,
            workstream_id=task.workstream_id,
            workstream_slug=ws.slug if ws else None,
            repo=ws.repo if ws else None,
        )
    return targets


# --- reading the boundary's result --------------------------------------------------------


@dataclass(frozen=True)
class AcceptedView:
    """What the builder reads of an accepted item."""

    candidate: str
    title: str
    rationale: str
    next_action: str
    score: float
    components: Mapping[str, int]
    line: int | None


def accepted_items(boundary: Mapping[str, Any]) -> list[AcceptedView]:
    """The boundary's accepted items, best first, from its result as it crosses Temporal.
    The one place that knows the item's shape."""
    return [
        AcceptedView(
            candidate=item["candidate"],
            title=item["title"],
            rationale=item["rationale"],
            next_action=item["next_action"],
            score=item["computed_score"],
            components={
                name: item["wsjf"][name]
                for name in ("business_value", "time_criticality", "risk_reduction", "job_size")
            },
            line=item.get("line"),
        )
        for item in boundary.get("items", [])
    ]


def allow_list_rejections(boundary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The quarantine entries the reference allow-list produced (every other one is a
    malformed item, with no candidate worth a log row)."""
    return [
        entry for entry in boundary.get("quarantined", []) if entry.get("reason") == QuarantineReason.UNKNOWN_REFERENCE
    ]


# --- building -----------------------------------------------------------------------------


def build_task_specs(
    block: TasksBlock,
    *,
    definition_id: str,
    workflow_id: str,
    run_id: str,
    local_date: date,
    boundary: Mapping[str, Any],
    targets: Mapping[str, CandidateTarget],
    scrub: Callable[[str], str],
) -> SpecBatch:
    """The run's specs and the items it does not emit. ``scrub`` blanks registered secrets out
    of the producer's text, which may echo them."""
    run = f"{workflow_id}/{run_id}"
    specs: list[TaskSpec] = []
    not_emitted: list[NotEmitted] = []
    ranked = accepted_items(boundary)
    chosen = [item for item in ranked if item.score >= block.select.min_score][: block.select.top]
    for item in chosen:
        rank = ranked.index(item) + 1
        target = targets.get(item.candidate)
        rejection = _repo_problem(block, target)
        if rejection is not None:
            reason, detail = rejection
            not_emitted.append(
                NotEmitted(
                    ref=item.candidate,
                    reason=reason,
                    detail=detail,
                    candidate=item.candidate,
                    rank=rank,
                    line=item.line,
                )
            )
            continue
        assert target is not None and target.repo is not None
        values = _values(
            item, target, rank=rank, local_date=local_date, definition_id=definition_id, run=run, scrub=scrub
        )
        specs.append(
            TaskSpec(
                candidate=item.candidate,
                rank=rank,
                line=item.line,
                repo=target.repo,
                title=_clip(_ONE_LINE.sub(" ", scrub(render(block.title, values))).strip(), MAX_TITLE_CHARS),
                body_markdown=_clip(scrub(render(block.body, values)), MAX_BODY_CHARS),
                labels=list(block.labels),
                source=f"{SOURCE_PREFIX}/{definition_id}",
                action=block.action,
                recurrence_comment=_clip(scrub(render(block.comment, values)), MAX_COMMENT_CHARS),
                on_recurrence=block.on_recurrence,
                review_required=block.review_required,
            )
        )
    for entry in allow_list_rejections(boundary):
        found = _CANDIDATE_IN_SNIPPET.search(entry.get("snippet") or "")
        where = f"recommendations[{entry['index']}]" if entry.get("index") is not None else f"line {entry.get('line')}"
        not_emitted.append(
            NotEmitted(
                ref=where,
                reason=NotEmittedReason.UNKNOWN_REFERENCE,
                detail=scrub(entry.get("detail", "")),
                candidate=scrub(found.group(1)) if found else None,
                line=entry.get("line"),
            )
        )
    return SpecBatch(
        definition_id=definition_id,
        workflow_id=workflow_id,
        run_id=run_id,
        occurrence=local_date,
        requested_sink=block.sink,
        specs=specs,
        not_emitted=not_emitted,
    )


def _repo_problem(block: TasksBlock, target: CandidateTarget | None) -> tuple[NotEmittedReason, str] | None:
    if target is None:
        return NotEmittedReason.NO_REPO, "the candidate is not in the planning state this run read"
    if not target.repo:
        return NotEmittedReason.NO_REPO, f"State Hub names no repo for {target.kind} {target.key}"
    if block.target_repos is not None and target.repo not in block.target_repos:
        return NotEmittedReason.REPO_NOT_ALLOWED, f"repo {target.repo!r} is not in tasks.target_repos"
    return None


def _values(
    item: AcceptedView,
    target: CandidateTarget,
    *,
    rank: int,
    local_date: date,
    definition_id: str,
    run: str,
    scrub: Callable[[str], str],
) -> dict[str, str]:
    producer = {"title": item.title, "rationale": item.rationale, "next_action": item.next_action}
    return {
        **{name: scrub(text) for name, text in producer.items()},
        **{name: str(value) for name, value in item.components.items()},
        "candidate": item.candidate,
        "candidate_key": target.key,
        "candidate_title": target.title,
        "workstream": target.workstream_slug or "",
        "repo": target.repo or "",
        "rank": str(rank),
        "score": f"{item.score:g}",
        "date": local_date.isoformat(),
        "definition": definition_id,
        "run": run,
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
