"""The trigger on the real stack: the session's Temporal dev server, our worker in-process, the
command worker as a real `activity-core command-worker` subprocess, the State Hub emulator.

Each test gets its own definition id (so its pass lock is its own) and its own activity-core
task queue. One command worker per module serves the shared command task queue; tests that
kill a command worker start their own on a queue of their own.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activity_core.kinds.trigger.models import CommandPass
from activity_core.kinds.trigger.workflow import TriggerRun
from activity_core.runs.models import RunInput
from activity_core.runs.services import Services
from activity_core.settings import PROJECT_ROOT
from activity_core.store.models import RunRecord
from activity_core.temporal.awaiting import await_run
from tests.fixtures.runtime import harness_for, stack_settings
from tests.trigger.support import PLANTED_SECRET, SECRET_VARIABLE, STANDIN_PREFIX, wait_for
from tests.trigger.workflows import RetryingExecuteWorkflow

SHIPPED_DEFINITION = PROJECT_ROOT / "definitions" / "ops-warden-worker.yaml"
READY_LINE = "command worker polling task queue"
_COMMAND_PASS = TypeAdapter(CommandPass)
# Fast knobs for tests; production values live in the shipped definition.
FAST_COMMAND = {
    "time_budget_seconds": 20,
    "kill_grace_seconds": 1,
    "heartbeat_timeout_seconds": 2,
    "start_within_seconds": 10,
    "dry_run_max_attempts": 3,
}


@dataclass
class CommandWorkerProcess:
    process: subprocess.Popen
    task_queue: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_command_worker(
    temporal_address: str, task_queue: str, log: Path, *extra: str, graceful_seconds: float = 5
) -> CommandWorkerProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVITY_CORE_", "STATE_HUB_", "LLM_CONNECT_"))}
    env.update(
        TEMPORAL_ADDRESS=temporal_address,
        ACTIVITY_CORE_LOG_FORMAT="json",
        ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS=str(graceful_seconds),
    )
    env[SECRET_VARIABLE] = PLANTED_SECRET
    argv = [
        sys.executable,
        "-m",
        "activity_core",
        "command-worker",
        "--task-queue",
        task_queue,
        "--allow",
        shlex.join(STANDIN_PREFIX),
        "--secret-env",
        SECRET_VARIABLE,
        *extra,
    ]
    process = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return CommandWorkerProcess(process, task_queue, log)


async def wait_ready(worker: CommandWorkerProcess) -> None:
    def ready() -> bool:
        if worker.process.poll() is not None:
            raise AssertionError(f"command worker exited {worker.process.returncode}:\n{worker.output()}")
        return READY_LINE in worker.output()

    await wait_for(ready, timeout=30, what="the command worker to poll")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


class CommandWorkers:
    """Command workers of one test's own, on queues of their own (reaped at the end)."""

    def __init__(self, temporal_address: str, log_dir: Path) -> None:
        self._temporal_address = temporal_address
        self._log_dir = log_dir
        self.started: list[CommandWorkerProcess] = []

    async def start(self, task_queue: str, *extra: str, graceful_seconds: float = 5) -> CommandWorkerProcess:
        """A command worker that is already polling."""
        log = self._log_dir / f"command-worker-{len(self.started)}.log"
        worker = start_command_worker(
            self._temporal_address, task_queue, log, *extra, graceful_seconds=graceful_seconds
        )
        self.started.append(worker)
        await wait_ready(worker)
        return worker

    async def kill_and_replace(self, worker: CommandWorkerProcess) -> CommandWorkerProcess:
        """SIGKILL (no drain, no goodbye), then a successor on the same queue."""
        worker.process.kill()
        worker.process.wait()
        return await self.start(worker.task_queue)


@pytest.fixture
def command_workers(temporal_address: str, tmp_path: Path) -> Iterator[CommandWorkers]:
    workers = CommandWorkers(temporal_address, tmp_path)
    yield workers
    for worker in workers.started:
        stop(worker.process)


@pytest.fixture(scope="module")
async def shared_command_worker(
    temporal_address: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CommandWorkerProcess]:
    queue = f"commands-{uuid.uuid4().hex[:8]}"
    worker = start_command_worker(temporal_address, queue, tmp_path_factory.mktemp("command-worker") / "worker.log")
    try:
        await wait_ready(worker)
        yield worker
    finally:
        stop(worker.process)


@dataclass
class TriggerRunView:
    """A finished trigger run as a reader sees it: the summary, the row's typed result, the event."""

    status: str
    error_message: str | None
    result: CommandPass | None
    summary: str
    record: RunRecord


@dataclass
class TriggerHarness:
    client: Client
    task_queue: str
    definitions_dir: Path
    command_worker: CommandWorkerProcess
    state_hub: Any
    tmp_path: Path
    services: Services

    def define(self, argv: list[str], *, mode: str = "dry_run", **command: Any) -> str:
        """Write a trigger definition (the shipped one, with fast knobs) and return its id."""
        definition_id = f"trig-{uuid.uuid4().hex[:10]}"
        data = yaml.safe_load(SHIPPED_DEFINITION.read_text())
        data["id"] = definition_id
        data["command"] = {
            **data["command"],
            **FAST_COMMAND,
            "argv": argv,
            "mode": mode,
            "task_queue": self.command_worker.task_queue,
            **command,
        }
        data["evidence"] = {**data["evidence"], "state_hub_retry_total_seconds": 30, "retry_initial_seconds": 0.2}
        (self.definitions_dir / f"{definition_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return definition_id

    async def start(self, definition_id: str, workflow_id: str | None = None) -> WorkflowHandle:
        return await self.client.start_workflow(
            TriggerRun.run,
            RunInput(definition_id=definition_id),
            id=workflow_id or f"manual-{definition_id}-{uuid.uuid4().hex[:6]}",
            task_queue=self.task_queue,
            execution_timeout=timedelta(minutes=3),
        )

    async def outcome(self, handle: WorkflowHandle) -> TriggerRunView:
        summary = await await_run(handle)
        record = await self.services.runs.get_run(handle.id)
        assert record is not None, f"no row for {handle.id}"
        events = self.events(handle.id)
        return TriggerRunView(
            status=summary.status,
            error_message=summary.error_message,
            result=_COMMAND_PASS.validate_python(record.result) if record.result is not None else None,
            summary=events[0]["summary"] if events else "",
            record=record,
        )

    async def run(self, definition_id: str) -> tuple[TriggerRunView, WorkflowHandle]:
        handle = await self.start(definition_id)
        return await self.outcome(handle), handle

    def events(self, workflow_id: str) -> list[dict]:
        return [e for e in self.state_hub.progress_events() if e["idempotency_key"].startswith(f"{workflow_id}/")]


@pytest.fixture
async def trigger(
    temporal_client: Client,
    temporal_address: str,
    fresh_database: str,
    shared_command_worker: CommandWorkerProcess,
    state_hub,
    llm_connect,
    tmp_path: Path,
) -> AsyncIterator[TriggerHarness]:
    """The real worker (every registered kind) on this test's queue, its own database and definitions."""
    definitions_dir = tmp_path / "definitions"
    definitions_dir.mkdir()
    settings = stack_settings(
        temporal_address=temporal_address,
        database_url=fresh_database,
        state_hub=state_hub,
        llm_connect=llm_connect,
        definitions_dir=definitions_dir,
        definition_id=uuid.uuid4().hex[:8],
        data_dir=tmp_path / "data",
    )
    async with harness_for(temporal_client, settings, "unused", state_hub, llm_connect) as stack:
        harness = TriggerHarness(
            client=temporal_client,
            task_queue=settings.task_queue,
            definitions_dir=definitions_dir,
            command_worker=shared_command_worker,
            state_hub=state_hub,
            tmp_path=tmp_path,
            services=stack.deps,
        )
        # The deliberately misconfigured workflow of one test is the tests' own: never registered by the kinds.
        misconfigured = Worker(
            temporal_client,
            task_queue=settings.task_queue + "-misconfigured",
            workflows=[RetryingExecuteWorkflow],
            graceful_shutdown_timeout=timedelta(seconds=2),
        )
        async with misconfigured:
            yield harness
