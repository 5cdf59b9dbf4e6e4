"""What the reviewer page shows, gathered from the gate's own walk (so the two never disagree)."""

from __future__ import annotations

from datetime import datetime

from temporalio.client import Client

from activity_core.calibration.gate import Unreachable, calibration_status
from activity_core.calibration.html import ReportData
from activity_core.clients.state_hub import StateHubClient
from activity_core.definitions.base import DefinitionBase
from activity_core.store.feedback import FeedbackStore
from activity_core.store.history import HistoryStore


async def build_report(
    history: HistoryStore,
    feedback: FeedbackStore,
    temporal: Client | Unreachable,
    state_hub: StateHubClient,
    definition: DefinitionBase,
    *,
    days: int,
    now: datetime,
) -> ReportData:
    """Everything the page shows, from one gate walk over ``days`` ticks; raises ``NoScheduledRuns``."""
    gate = await calibration_status(history, feedback, temporal, state_hub, definition, window=days, now=now)
    return ReportData(
        definition=definition, gate=gate, latest=await history.latest_report(definition.id), generated_at=now
    )
