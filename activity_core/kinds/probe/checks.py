"""The probe's checks, one per kind of target, as the worker wires them.

A check is an awaitable that returns when its target is up and raises when it is not (the
deep llm-connect check also returns its findings); the probe activity turns either into a
``TargetReport`` and bounds it with the target's timeout. HTTP goes through the service clients (which keep requests
and tokens out of their errors); Temporal through the worker's own client; PostgreSQL
through a fresh connection, so that a pool's reconnects cannot hide an outage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from temporalio.client import Client

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.clients.llm_connect import LlmConnectClient
from activity_core.clients.state_hub import StateHubClient
from activity_core.kinds.probe.llm_smoke import SmokeRequest, run_llm_smoke
from activity_core.store.pool import answers_select_one

Check = Callable[[], Awaitable[None]]
# Only a backstop: the probe activity bounds every check with its target's own timeout.
_HEALTH_ONLY_TIMEOUT_SECONDS = 60.0
SmokeCheck = Callable[[str], Awaitable[dict[str, Any]]]  # takes the request id llm-connect logs


class CheckFailed(Exception):
    """A target answered, and the answer says it is not usable; ``details`` say how."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def temporal_frontend_check(client: Client) -> Check:
    async def check() -> None:
        if not await client.service_client.check_health():
            raise RuntimeError("the frontend answers, but its workflow service is not serving")

    return check


def postgres_check(dsn: str) -> Check:
    async def check() -> None:
        await answers_select_one(dsn)

    return check


def issue_core_health_check(client: IssueCoreClient | None, url: str) -> Check | None:
    """issue-core's ``/health`` when ISSUE_CORE_URL is configured: through the sink's client when
    the ceiling made one, else through a token-less client opened per check (under the null
    ceiling this process holds nothing that can create a task). None when not configured."""
    if client is not None:
        return client.health
    if not url:
        return None

    async def check() -> None:
        async with IssueCoreClient(url, token=None, timeout_seconds=_HEALTH_ONLY_TIMEOUT_SECONDS) as health_only:
            await health_only.health()

    return check


def llm_connect_smoke_check(
    llm: LlmConnectClient, request: Callable[[], SmokeRequest], *, scrub: Callable[[str], str]
) -> SmokeCheck:
    """The deep check: its details are the smoke report, whether it passed or not."""

    async def check(request_id: str) -> dict[str, Any]:
        report = await run_llm_smoke(llm, request(), request_id=request_id, scrub=scrub)
        if not report.passed:
            raise CheckFailed(report.headline(), report.to_dict())
        return report.to_dict()

    return check


def standard_checks(
    *,
    llm_connect: LlmConnectClient,
    state_hub: StateHubClient,
    temporal: Client,
    database_dsn: str,
    issue_core_health: Check | None = None,
) -> Mapping[str, Check]:
    """Every plain check a worker with these clients can run; issue-core only when configured.
    The service clients' ``health()`` already checks for 200 ``{"status": "ok"}``."""
    checks: dict[str, Check] = {
        "llm_connect_health": llm_connect.health,
        "state_hub_health": state_hub.health,
        "temporal_frontend": temporal_frontend_check(temporal),
        "postgres": postgres_check(database_dsn),
    }
    if issue_core_health is not None:
        checks["issue_core_health"] = issue_core_health
    return checks
