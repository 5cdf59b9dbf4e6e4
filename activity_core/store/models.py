"""What the store writes and reads: the ``activity_runs`` row and the inputs that fill it.

The status and trigger sets are the run's own (``activity_core.runs.models``); the table's CHECK
constraints repeat them, and the validators refuse a bad value in Python with a field name
before it becomes a constraint violation in PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from activity_core.runs.models import RunStatus, Trigger


class RunStarted(BaseModel):
    """A run as its first recording activity knows it. Datetimes must carry a time zone."""

    model_config = ConfigDict(frozen=True)

    definition_id: str
    kind: str
    workflow_id: str
    run_id: str
    trigger: Trigger
    scheduled_at: AwareDatetime | None = Field(description="TemporalScheduledStartTime, if any.")
    tick_at: AwareDatetime | None = Field(default=None, description="The spec's tick of a schedule or late run.")
    start_lag_seconds: float | None = None
    local_date: date = Field(description="The run's date in its definition's time zone (UTC if it has none).")
    started_at: AwareDatetime

    @model_validator(mode="after")
    def _tick_runs_have_tick(self) -> RunStarted:
        if self.trigger in (Trigger.SCHEDULE, Trigger.LATE) and self.tick_at is None:
            raise ValueError(f"a run with trigger {self.trigger.value!r} needs tick_at (its schedule tick)")
        return self


class RunReport(BaseModel):
    """What the trust boundary made of a model's answer, as the row keeps it for reviewers."""

    model_config = ConfigDict(frozen=True)

    framing: str
    truncated: bool
    summary: str | None = None
    items: list[dict[str, Any]] = Field(default_factory=list, description="The kept, ranked report.")
    quarantined: list[dict[str, Any]] = Field(default_factory=list)
    counts: dict[str, Any] = Field(default_factory=dict)
    raw_content: str | None = Field(default=None, description="The judged model output, for replay.")
    known_refs: list[str] = Field(default_factory=list, description="The allow-list the boundary used.")
    reasks: int = 0

    @field_validator("summary", "items", "quarantined", "raw_content", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """PostgreSQL text and jsonb hold neither NUL nor lone surrogates; model output may.

        Each becomes U+FFFD; everything else is kept as the model wrote it.
        """
        return _storable(value)


class LlmCallRecord(BaseModel):
    """How llm-connect answered the run's last call, and the versions that produced the run."""

    model_config = ConfigDict(frozen=True)

    model: str | None
    provider: str | None
    usage: dict[str, Any] | None
    finish_reason: str | None
    latency_ms: int
    attempts: int
    versions: dict[str, str | None] = Field(default_factory=dict)


class RunFinished(BaseModel):
    """The outcome of a run; what its steps recorded on the way stays as they wrote it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str
    status: RunStatus
    finished_at: AwareDatetime
    error_message: str | None = Field(default=None, description="Already sanitized by the caller.")
    timings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("status")
    @classmethod
    def _finished(cls, value: RunStatus) -> RunStatus:
        if value is RunStatus.RUNNING:
            raise ValueError("a finished run cannot have status 'running'")
        return value

    @field_validator("error_message", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        if value.isascii():
            return value.replace("\x00", "\ufffd")
        valid = value.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
        return valid.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    return value


class RunRecord(BaseModel):
    """One ``activity_runs`` row. Outcome fields are None while the run is still running."""

    model_config = ConfigDict(frozen=True)

    id: int
    definition_id: str
    kind: str
    workflow_id: str
    run_id: str
    trigger: Trigger
    scheduled_at: datetime | None
    tick_at: datetime | None
    start_lag_seconds: float | None
    local_date: date
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    error_message: str | None
    framing: str | None
    truncated: bool | None
    summary: str | None
    items: list[dict[str, Any]] | None
    quarantined: list[dict[str, Any]] | None
    counts: dict[str, Any] | None
    items_kept: int | None
    items_quarantined: int | None
    llm_model: str | None
    llm_provider: str | None
    llm_usage: dict[str, Any] | None
    llm_finish_reason: str | None
    llm_latency_ms: int | None
    llm_attempts: int | None
    reasks: int
    raw_content: str | None
    progress_event_id: str | None
    note_id: str | None
    note_key: str | None
    timings: dict[str, Any] | None
    known_refs: list[str] | None = None
    versions: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    updated_at: datetime


class RunQuery(BaseModel):
    """The filters of ``runs list``; ``since`` is a calendar date in each run's own time zone."""

    model_config = ConfigDict(frozen=True)

    definition_id: str | None = None
    status: RunStatus | None = None
    trigger: Trigger | None = None
    since: date | None = None
    limit: int = Field(default=50, ge=1, le=1000)
