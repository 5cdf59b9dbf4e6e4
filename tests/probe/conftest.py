"""The probe on the real stack: the session's Temporal and PostgreSQL, the emulators over HTTP,
our worker in-process. Each run can point any target at a dead address instead."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activity_core.clients.llm_connect import LlmConnectClient
from activity_core.clients.state_hub import StateHubClient
from activity_core.devstack.embedded import free_port
from activity_core.kinds.probe.activities import ProbeActivities, ProbeDependencies
from activity_core.kinds.probe.checks import Check, llm_connect_smoke_check, standard_checks
from activity_core.kinds.probe.llm_smoke import triage_smoke_request
from activity_core.kinds.probe.models import ProbeReport
from activity_core.kinds.probe.workflow import ProbeRun
from activity_core.kinds.registry import KINDS, registered_workflows
from activity_core.observability.logging import redact
from activity_core.observability.metrics import Metrics
from activity_core.runs.activities import LifecycleActivities
from activity_core.runs.models import RunInput
from activity_core.settings import PROJECT_ROOT
from activity_core.store.models import RunRecord
from activity_core.temporal.awaiting import await_run
from activity_core.temporal.worker import ServiceEndpoints, open_services
from tests.fixtures.runtime import migrate, stack_settings

SHIPPED_DEFINITION = PROJECT_ROOT / "definitions" / "ops-inventory-probe.yaml"
TRIAGE_DEFINITIONS = PROJECT_ROOT / "definitions"
_REPORT = TypeAdapter(ProbeReport)


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class ProbeRunView:
    status: str
    error_message: str | None
    summary: str
    payload: dict[str, Any]
    result: ProbeReport | None
    record: RunRecord


@dataclass
class ProbeHarness:
    client: Client
    temporal_address: str
    database_dsn: str
    state_hub: Any
    llm_connect: Any
    definitions_dir: Path

    def define(self, targets: list[dict[str, Any]] | None = None) -> str:
        definition_id = f"probe-{uuid.uuid4().hex[:10]}"
        data = yaml.safe_load(SHIPPED_DEFINITION.read_text())
        data["id"] = definition_id
        if targets is not None:
            data["targets"] = targets
        (self.definitions_dir / f"{definition_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return definition_id

    async def run(
        self,
        definition_id: str,
        *,
        llm_url: str | None = None,
        database_dsn: str | None = None,
        temporal: Client | None = None,
        issue_core: Check | None = None,
        llm_timeout_seconds: float = 30,
        before_start: Callable[[], Awaitable[None]] | None = None,
        while_running: Callable[[WorkflowHandle], Awaitable[None]] | None = None,
    ) -> tuple[ProbeRunView, WorkflowHandle]:
        """One probe run on the real lifecycle and ProbeRun; the checks' clients point where the test says.
        ``before_start`` runs once the worker polls, ``while_running`` once the run is started (an outage
        of a server the worker uses is begun and ended there)."""
        settings = stack_settings(
            temporal_address=self.temporal_address,
            database_url=self.database_dsn,
            state_hub=self.state_hub,
            llm_connect=self.llm_connect,
            definitions_dir=self.definitions_dir,
            definition_id=definition_id,
            data_dir=self.definitions_dir.parent / "data",
        )
        await migrate(settings)
        async with (
            open_services(settings, ServiceEndpoints.from_settings(settings), Metrics()) as services,
            LlmConnectClient(llm_url or self.llm_connect.url, timeout_seconds=llm_timeout_seconds) as llm,
            StateHubClient(self.state_hub.url, token=self.state_hub.token, timeout_seconds=5) as hub,
        ):
            deps = ProbeDependencies(
                targets=lambda definition_id: [t for t in services.definitions.get(definition_id).definition.targets],
                checks=standard_checks(
                    llm_connect=llm,
                    state_hub=hub,
                    temporal=temporal or self.client,
                    database_dsn=database_dsn or self.database_dsn,
                    issue_core_health=issue_core,
                ),
                llm_smoke=llm_connect_smoke_check(
                    llm,
                    lambda: triage_smoke_request(TRIAGE_DEFINITIONS, budget_seconds=llm_timeout_seconds),
                    scrub=redact,
                ),
                scrub=redact,
            )
            worker = Worker(
                self.client,
                task_queue=settings.task_queue,
                workflows=registered_workflows(),
                activities=[*LifecycleActivities(services, KINDS).all(), *ProbeActivities(deps).all()],
                graceful_shutdown_timeout=timedelta(seconds=2),
            )
            async with worker:
                if before_start is not None:
                    await before_start()
                handle = await self.client.start_workflow(
                    ProbeRun.run,
                    RunInput(definition_id=definition_id),
                    id=f"manual-{definition_id}-{uuid.uuid4().hex[:6]}",
                    task_queue=settings.task_queue,
                    execution_timeout=timedelta(minutes=3),
                )
                if while_running is not None:
                    await while_running(handle)
                summary = await await_run(handle)
                record = await services.runs.get_run(handle.id)
        assert record is not None
        events = self.events(handle.id)
        assert len(events) <= 1, events
        view = ProbeRunView(
            status=summary.status,
            error_message=summary.error_message,
            summary=events[0]["summary"] if events else "",
            payload=events[0]["payload"] if events else {},
            result=_REPORT.validate_python(record.result) if record.result is not None else None,
            record=record,
        )
        return view, handle

    def events(self, workflow_id: str) -> list[dict]:
        return [e for e in self.state_hub.progress_events() if e["idempotency_key"].startswith(f"{workflow_id}/")]


@pytest.fixture
def probe(temporal_client: Client, temporal_address: str, fresh_database: str, state_hub, llm_connect, tmp_path: Path):
    definitions_dir = tmp_path / "definitions"
    definitions_dir.mkdir()
    return ProbeHarness(temporal_client, temporal_address, fresh_database, state_hub, llm_connect, definitions_dir)
