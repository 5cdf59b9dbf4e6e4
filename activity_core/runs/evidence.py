"""What a kind renders for State Hub; the lifecycle posts it, once per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SOURCE = "activity-core"


@dataclass(frozen=True)
class ProgressDraft:
    summary: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class NoteDraft:
    key: str
    title: str
    body_markdown: str
    tags: list[str]


def progress_idempotency_key(workflow_id: str, run_id: str) -> str:
    """Per Temporal run: a second run under a used workflow id posts its own event."""
    return f"{workflow_id}/{run_id}"
