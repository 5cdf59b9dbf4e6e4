"""The command worker: a Temporal worker that serves only the command activity.

It runs on the command's side (ops-warden's pod, image and credentials), polls one task
queue, and holds no workflow, no database and no activity-core secret. SIGTERM stops
polling and lets a running pass finish for the graceful-shutdown time; a pass still running
after that is cancelled, which stops its process group, and its run records it as
``unknown`` (an execute pass) or retries it (a dry run).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activity_core.kinds.trigger.command_activity import CommandActivities, CommandPolicy
from activity_core.observability.health import HealthServer, HealthStatus, run_checks
from activity_core.observability.logging import register_secret

log = logging.getLogger("activity_core.command_worker")


@dataclass(frozen=True)
class CommandWorkerConfig:
    temporal_address: str
    temporal_namespace: str
    task_queue: str
    policy: CommandPolicy
    graceful_shutdown_seconds: float
    health_port: int = 0  # 0: no health endpoint


def create_command_worker(client: Client, config: CommandWorkerConfig) -> Worker:
    return Worker(
        client,
        task_queue=config.task_queue,
        activities=CommandActivities(config.policy).all(),
        graceful_shutdown_timeout=timedelta(seconds=config.graceful_shutdown_seconds),
        # one pass at a time per worker: a pass is a whole inbox, not a unit of parallel work
        max_concurrent_activities=1,
    )


async def serve_commands(config: CommandWorkerConfig, *, stop: asyncio.Event | None = None) -> None:
    """Serve the command activity until SIGTERM/SIGINT (or ``stop``)."""
    for value in config.policy.secrets.values():
        register_secret(value)  # its own log lines are scrubbed as well
    client = await Client.connect(config.temporal_address, namespace=config.temporal_namespace)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker = create_command_worker(client, config)
    async with AsyncExitStack() as running:
        if config.health_port:

            async def status() -> HealthStatus:
                return await run_checks({"temporal_worker": lambda: worker.is_running})

            await running.enter_async_context(
                HealthServer("0.0.0.0", config.health_port, liveness=status, readiness=status, metrics_text=lambda: b"")
            )
        await running.enter_async_context(worker)
        log.info(
            "command worker polling task queue %s; %d allowed prefix(es), %d secret variable(s)%s",
            config.task_queue,
            len(config.policy.allowed_prefixes),
            len(config.policy.secrets),
            ", dry runs only" if config.policy.dry_run_only else "",
            extra={"task_queue": config.task_queue},
        )
        await stop.wait()
        log.info("shutting down: a running pass gets up to %ss", config.graceful_shutdown_seconds)
    log.info("command worker stopped")
