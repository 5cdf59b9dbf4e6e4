"""Wiring only: Temporal client, the clients and store the activities use, the worker.

``open_services`` and ``create_worker`` are what the ``worker`` command, the local stack and
the tests share, so all three run the same worker, registering exactly the kinds' workflows
and activities (``activity_core.kinds.registry``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from activity_core.calibration.liveness import export_liveness
from activity_core.clients.issue_core import IssueCoreClient
from activity_core.clients.llm_connect import LlmConnectClient
from activity_core.clients.state_hub import StateHubClient
from activity_core.definitions.base import CallCeilings
from activity_core.definitions.loader import DefinitionCache, load_all
from activity_core.kinds.registry import registered_activities, registered_workflows
from activity_core.observability.health import HealthListenerError, HealthServer, Probes
from activity_core.observability.logging import redact, register_secret, register_settings_secrets
from activity_core.observability.metrics import (
    Metrics,
    MetricsExposition,
    TemporalMetricsRuntime,
    temporal_prometheus_runtime,
)
from activity_core.runs.services import Services
from activity_core.settings import Settings, SinkType
from activity_core.store.history import HistoryStore
from activity_core.store.pool import create_pool
from activity_core.store.runs import RunStore
from activity_core.store.tasks import TaskSpawnLog
from activity_core.tasks.emission import TaskEmitter

log = logging.getLogger("activity_core.temporal.worker")


class WorkerConfigError(RuntimeError):
    """The worker cannot start with this configuration; the message names the variable to set."""


@dataclass(frozen=True)
class ServiceEndpoints:
    """Every address a worker needs, resolved (the local stack fills in embedded ones)."""

    temporal_address: str
    database_dsn: str
    llm_connect_url: str
    state_hub_url: str
    state_hub_token: str | None
    issue_core_url: str | None = None
    """Needed only when ISSUE_SINK_TYPE is not null (the settings refuse to start otherwise)."""
    issue_core_token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceEndpoints:
        missing = [
            name
            for name, value in (
                ("TEMPORAL_ADDRESS", settings.temporal_address),
                ("DATABASE_URL", settings.database_dsn()),
                ("LLM_CONNECT_URL", settings.llm_connect_url),
                ("STATE_HUB_URL", settings.state_hub_url),
            )
            if not value
        ]
        if missing:
            raise WorkerConfigError(
                f"the worker needs {', '.join(missing)} set; for a local stack with embedded "
                "services use `activity-core run --stay-up` instead"
            )
        return cls(
            temporal_address=settings.temporal_address or "",
            database_dsn=settings.database_dsn() or "",
            llm_connect_url=settings.llm_connect_url or "",
            state_hub_url=settings.state_hub_url or "",
            state_hub_token=settings.state_hub_bearer(),
            issue_core_url=settings.issue_core_url,
            issue_core_token=settings.issue_core_bearer(),
        )


async def connect_temporal(address: str, namespace: str, runtime: Runtime | None = None) -> Client:
    return await Client.connect(address, namespace=namespace, runtime=runtime)


def call_ceilings(settings: Settings) -> CallCeilings:
    """The deployment's per-call budgets, which no definition may exceed."""
    return CallCeilings(
        llm_call_seconds=settings.llm_connect_timeout_seconds,
        state_hub_call_seconds=settings.state_hub_timeout_seconds,
    )


@asynccontextmanager
async def open_services(settings: Settings, endpoints: ServiceEndpoints, metrics: Metrics) -> AsyncIterator[Services]:
    for secret in (endpoints.state_hub_token, endpoints.issue_core_token, endpoints.database_dsn):
        if secret:
            register_secret(secret)
    pool = await create_pool(
        endpoints.database_dsn,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        command_timeout=settings.db_command_timeout_seconds,
    )
    try:
        async with (
            StateHubClient(
                endpoints.state_hub_url,
                token=endpoints.state_hub_token,
                timeout_seconds=settings.state_hub_timeout_seconds,
            ) as state_hub,
            LlmConnectClient(
                endpoints.llm_connect_url, timeout_seconds=settings.llm_connect_timeout_seconds
            ) as llm_connect,
            AsyncExitStack() as optional,
        ):
            issue_core = None
            if settings.issue_sink_type is not SinkType.NULL:
                issue_core = await optional.enter_async_context(_issue_core_client(settings, endpoints))
            ceilings = call_ceilings(settings)
            timeout = settings.db_command_timeout_seconds
            yield Services(
                definitions=DefinitionCache(settings.definitions_dir, ceilings),
                ceilings=ceilings,
                state_hub=state_hub,
                llm_connect=llm_connect,
                runs=RunStore(pool, timeout=timeout),
                metrics=metrics,
                scrub=redact,
                tasks=TaskEmitter(
                    TaskSpawnLog(pool, timeout=timeout),
                    ceiling=settings.issue_sink_type,
                    client=issue_core,
                    scrub=redact,
                ),
                issue_core=issue_core,
                issue_core_health_url=str(endpoints.issue_core_url or ""),
                database_dsn=endpoints.database_dsn,
            )
    finally:
        await pool.close()


def _issue_core_client(settings: Settings, endpoints: ServiceEndpoints) -> IssueCoreClient:
    if not endpoints.issue_core_url:
        raise WorkerConfigError(
            f"ISSUE_SINK_TYPE={settings.issue_sink_type.value} needs ISSUE_CORE_URL (or ISSUE_SINK_TYPE=null)"
        )
    return IssueCoreClient(
        endpoints.issue_core_url,
        token=endpoints.issue_core_token,
        timeout_seconds=settings.issue_core_timeout_seconds,
    )


def create_worker(client: Client, *, task_queue: str, services: Services, graceful_shutdown: timedelta) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=registered_workflows(),
        activities=registered_activities(replace(services, temporal=client)),
        graceful_shutdown_timeout=graceful_shutdown,
    )


async def serve(
    settings: Settings, *, stop: asyncio.Event | None = None, temporal_metrics: TemporalMetricsRuntime | None = None
) -> None:
    """Run the worker until SIGTERM/SIGINT (or ``stop``), draining in-flight activities.

    Refuses to start on an invalid definition: a schedule must never fire into a definition
    the worker cannot run. The health listener binds first, before anything connects, so a
    port clash is a one-line configuration error; until the worker runs, ``/healthz`` says so.
    """
    load_all(settings.definitions_dir, call_ceilings(settings))
    endpoints = ServiceEndpoints.from_settings(settings)
    register_settings_secrets(settings)
    metrics = Metrics()
    temporal_metrics = temporal_metrics or temporal_prometheus_runtime()
    worker: Worker | None = None
    runs: RunStore | None = None

    def temporal_worker_running() -> bool:
        return worker is not None and worker.is_running

    async def postgres_answers() -> bool:
        return runs is not None and await runs.ping()

    probes = Probes(liveness={"temporal_worker": temporal_worker_running}, readiness={"postgres": postgres_answers})
    metrics.worker_running.set_function(temporal_worker_running)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        async with AsyncExitStack() as running:
            if settings.health_port:
                await _start_health_listener(
                    running,
                    HealthServer(
                        settings.health_host,
                        settings.health_port,
                        liveness=probes.live,
                        readiness=probes.ready,
                        metrics_text=MetricsExposition(metrics, temporal_metrics_url=temporal_metrics.metrics_url),
                    ),
                )
            client = await connect_temporal(
                endpoints.temporal_address, settings.temporal_namespace, temporal_metrics.runtime
            )
            services = await running.enter_async_context(open_services(settings, endpoints, metrics))
            runs = services.runs
            worker = create_worker(
                client,
                task_queue=settings.task_queue,
                services=services,
                graceful_shutdown=timedelta(seconds=settings.graceful_shutdown_seconds),
            )
            await running.enter_async_context(worker)
            liveness = asyncio.create_task(
                export_liveness(
                    HistoryStore(services.runs.pool, timeout=settings.db_command_timeout_seconds),
                    lambda: [
                        loaded.definition
                        for loaded in load_all(settings.definitions_dir, call_ceilings(settings)).values()
                    ],
                    metrics,
                )
            )
            running.callback(liveness.cancel)
            log.info(
                "worker polling task queue %s; health listener %s",
                settings.task_queue,
                f"{settings.health_host}:{settings.health_port}" if settings.health_port else "off",
                extra={"task_queue": settings.task_queue},
            )
            await stop.wait()
            log.info("shutting down: draining in-flight activities for up to %ss", settings.graceful_shutdown_seconds)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
    log.info("worker stopped")


async def _start_health_listener(running: AsyncExitStack, health: HealthServer) -> None:
    """Enter ``health`` into ``running``; a bind failure becomes a WorkerConfigError naming the setting."""
    try:
        await running.enter_async_context(health)
    except HealthListenerError as exc:
        fix = (
            f"another process holds port {exc.port}: stop it, or set ACTIVITY_CORE_HEALTH_PORT to a free port "
            "(0 turns the listener off)"
            if exc.in_use
            else "set ACTIVITY_CORE_HEALTH_HOST to an IP address of this host (0.0.0.0 for all)"
        )
        raise WorkerConfigError(f"health listener: {exc}; {fix}") from None
