"""Reviewers' verdicts on runs: the ``calibration_feedback`` table.

A verdict is stored before it is posted to State Hub, and the event id after: the row is
what makes "exactly once per verdict" hold across a failed post and the retry that follows
(see ``migrations/0002_calibration_feedback.sql``). Each change of a reviewer's verdict on a
run is a row of its own; recording the verdict the reviewer already holds finds that row
(``migrations/0005_feedback_per_reviewer.sql``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

Verdict = Literal["accept", "reject"]

_COLUMNS = "id, run_row_id, verdict, note, reviewer, idempotency_key, progress_event_id, recorded_at, posted_at"

_INSERT = f"""
INSERT INTO calibration_feedback (run_row_id, verdict, note, reviewer, idempotency_key)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING {_COLUMNS}
"""

_REVIEWERS_ROWS = f"""
SELECT {_COLUMNS} FROM calibration_feedback
WHERE run_row_id = $1 AND reviewer IS NOT DISTINCT FROM $2
ORDER BY recorded_at DESC, id DESC
"""

# Only the first stored id wins, so two reviewers retrying at once cannot swap it afterwards.
_SET_POSTED = f"""
UPDATE calibration_feedback SET progress_event_id = $2, posted_at = now()
WHERE id = $1 AND progress_event_id IS NULL
RETURNING {_COLUMNS}
"""


class Feedback(BaseModel):
    """One ``calibration_feedback`` row; ``progress_event_id`` is None until State Hub took it."""

    model_config = ConfigDict(frozen=True)

    id: int
    run_row_id: int
    verdict: Verdict
    note: str | None
    reviewer: str | None
    idempotency_key: str
    progress_event_id: str | None
    recorded_at: datetime
    posted_at: datetime | None


class FeedbackStore:
    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def record(
        self, run_row_id: int, verdict: Verdict, *, note: str | None, reviewer: str | None, key_base: str
    ) -> tuple[Feedback, bool]:
        """The reviewer's verdict row and whether this call created it.

        False: the reviewer's latest verdict on the run is this one already, and its stored
        note is kept. The idempotency key is ``key_base``, plus the reviewer and the number of
        the reviewer's earlier rows on the run when there are any, so a retry (or a race) of
        the same change reuses exactly the key State Hub may have seen.
        """
        async with self._pool.acquire(timeout=self._timeout) as conn:
            earlier = await conn.fetch(_REVIEWERS_ROWS, run_row_id, reviewer, timeout=self._timeout)
            if earlier and earlier[0]["verdict"] == verdict:
                return Feedback.model_validate(dict(earlier[0])), False
            key = key_base + (f":{reviewer}" if reviewer else "") + (f":{len(earlier)}" if earlier else "")
            row = await conn.fetchrow(_INSERT, run_row_id, verdict, note, reviewer, key, timeout=self._timeout)
            if row is not None:
                return Feedback.model_validate(dict(row)), True
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM calibration_feedback WHERE idempotency_key = $1", key, timeout=self._timeout
            )
        return Feedback.model_validate(dict(row)), False

    async def set_posted(self, feedback_id: int, event_id: str) -> Feedback:
        """Store the State Hub event id; when one is stored already, that one is returned."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            row = await conn.fetchrow(_SET_POSTED, feedback_id, event_id, timeout=self._timeout)
            if row is None:
                row = await conn.fetchrow(
                    f"SELECT {_COLUMNS} FROM calibration_feedback WHERE id = $1", feedback_id, timeout=self._timeout
                )
        return Feedback.model_validate(dict(row))

    async def for_runs(self, run_row_ids: Sequence[int]) -> dict[int, list[Feedback]]:
        """Every verdict on the given runs, oldest first, by run row id."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM calibration_feedback WHERE run_row_id = ANY($1::bigint[])"
                " ORDER BY recorded_at, id",
                list(run_row_ids),
                timeout=self._timeout,
            )
        by_run: dict[int, list[Feedback]] = {}
        for row in rows:
            by_run.setdefault(row["run_row_id"], []).append(Feedback.model_validate(dict(row)))
        return by_run
