"""What every kind's activities may touch, built once by the worker (``temporal.worker``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from temporalio.client import Client

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.clients.llm_connect import LlmConnectClient
from activity_core.clients.state_hub import StateHubClient
from activity_core.definitions.base import CallCeilings
from activity_core.definitions.loader import DefinitionCache
from activity_core.observability.metrics import Metrics
from activity_core.store.runs import RunStore
from activity_core.tasks.emission import TaskEmitter


@dataclass(frozen=True)
class Services:
    definitions: DefinitionCache
    ceilings: CallCeilings
    state_hub: StateHubClient
    llm_connect: LlmConnectClient
    runs: RunStore
    metrics: Metrics
    scrub: Callable[[str], str]
    """Replaces every configured secret value in a text: for messages and for model output."""
    tasks: TaskEmitter | None = None
    """Emits runs' task specs under the ISSUE_SINK_TYPE ceiling; None: this process emits none."""
    issue_core: IssueCoreClient | None = None
    """Only when ISSUE_SINK_TYPE is not null: under null nothing can reach issue-core."""
    issue_core_health_url: str = ""
    """ISSUE_CORE_URL, for the probe's health check under any ceiling ("" when not configured):
    under null it is checked by a token-less client of its own, never one that can create."""
    database_dsn: str = ""
    """For a probe of PostgreSQL over a fresh connection (a pool's reconnects would hide an outage)."""
    temporal: Client | None = None
    """The worker's own Temporal client (``create_worker`` sets it), for a probe of the frontend."""
