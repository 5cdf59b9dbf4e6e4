"""What a run proposes to issue-core: task specs, the items it chose not to emit, and the
states a spec moves through in the ``task_spawn_log``.

Generic on purpose: a kind (the instruction kind's ``task_specs.py``, say) turns its own
results into a ``SpecBatch``; everything after that knows nothing about the item model or State Hub.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from activity_core.clients.issue_core import NewComment, NewTask, TaskLinks
from activity_core.settings import SinkType


class SpawnState(StrEnum):
    PLANNED = "planned"
    """In the outbox; under the null sink also the outcome: computed and logged, nothing sent."""
    DRY_RUN = "dry_run"
    """The exact request that would be sent is logged; nothing was sent."""
    CREATED = "created"
    DUPLICATE = "duplicate"
    """The task of the current episode is still open: nothing new, its reference kept."""
    COMMENTED = "commented"
    """As duplicate, with a comment on the open task saying the recommendation recurred."""
    UNKNOWN = "unknown"
    """A write may have been applied (timeout or 5xx after sending): looked up before any retry."""
    FAILED = "failed"
    NOT_EMITTED = "not_emitted"
    """An item the run rejected for a task (the reason says why); never sent."""


class NotEmittedReason(StrEnum):
    UNKNOWN_REFERENCE = "unknown_reference"
    """The boundary's reference allow-list rejected the item: not an id State Hub returned."""
    NO_REPO = "no_repo"
    """State Hub names no repo for the candidate's workstream: there is nowhere to file it."""
    REPO_NOT_ALLOWED = "repo_not_allowed"
    """The repo is not on the definition's ``target_repos`` allow-list."""


OnRecurrence = Literal["skip", "comment"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskSpec(_Spec):
    """One task a run proposes, with the text already rendered, bounded and scrubbed."""

    candidate: str = Field(min_length=1, description="The State Hub id the task is about.")
    rank: int = Field(ge=1, description="Position among the run's accepted items, best first.")
    line: int | None = Field(default=None, description="Where the item stood in the producer's answer.")
    repo: str = Field(min_length=1)
    title: str = Field(min_length=1)
    body_markdown: str
    labels: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)
    action: str = Field(
        min_length=1,
        description="What the task asks, in words that stay the same from day to day: the input of "
        "the key's fingerprint, so the producer rephrasing an item does not file it again.",
    )
    recurrence_comment: str = Field(min_length=1, description="The comment posted when on_recurrence is comment.")
    on_recurrence: OnRecurrence = "skip"
    review_required: bool = Field(default=False, description="Audit and report metadata only: never sent.")

    def new_task(self, *, external_key: str, run: str) -> NewTask:
        """The create body for one episode of this spec (``review_required`` has no field there)."""
        return NewTask(
            title=self.title,
            body_markdown=self.body_markdown,
            repo=self.repo,
            labels=list(self.labels),
            source=self.source,
            external_key=external_key,
            links=TaskLinks(state_hub_id=self.candidate, run=run),
        )

    def new_comment(self, *, external_key: str) -> NewComment:
        return NewComment(body_markdown=self.recurrence_comment, external_key=external_key)


class NotEmitted(_Spec):
    """An item that was considered for a task and rejected, kept in the log with its reason."""

    ref: str = Field(min_length=1, description="The candidate, or where the item stood when it has none.")
    reason: NotEmittedReason
    detail: str
    candidate: str | None = None
    rank: int | None = None
    line: int | None = None


class SpecBatch(_Spec):
    """Everything one run of one definition proposes: the input of ``TaskEmitter.emit``."""

    definition_id: str = Field(min_length=1)
    workflow_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    occurrence: date = Field(description="The run's local date: runs of the same day are one occurrence.")
    requested_sink: SinkType = Field(description="The definition's sink, before the deployment's ceiling.")
    specs: list[TaskSpec] = Field(default_factory=list)
    not_emitted: list[NotEmitted] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_spec_per_candidate(self) -> SpecBatch:
        candidates = [spec.candidate for spec in self.specs]
        repeated = sorted({c for c in candidates if candidates.count(c) > 1})
        if repeated:
            raise ValueError(f"one task spec per candidate and run; repeated: {', '.join(repeated)}")
        return self

    @property
    def run_link(self) -> str:
        """How a task names the run that proposed it: ``<workflow id>/<run id>``."""
        return f"{self.workflow_id}/{self.run_id}"
