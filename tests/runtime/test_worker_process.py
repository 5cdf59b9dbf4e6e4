"""The worker as a real process: built from the wheel the image installs, and killed mid-run.

The worker runs as `activity-core worker` in a subprocess against the session's Temporal,
a fresh PostgreSQL database and the emulators, exactly as the cluster Deployment runs it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from activity_core.devstack.embedded import free_port
from activity_core.kinds.instruction.workflow import InstructionRun
from activity_core.runs.models import RunInput
from activity_core.settings import PROJECT_ROOT, Settings
from activity_core.store.models import RunQuery
from tests.deploy.image import install_image_wheel
from tests.fixtures.runtime import TriageHarness

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package built as a wheel (what the Containerfile installs) and installed on its own."""
    return install_image_wheel(tmp_path_factory.mktemp("wheel"))


def _worker_env(settings: Settings, *, health_port: int, site: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVITY_CORE_", "STATE_HUB_", "LLM_CONNECT_"))}
    env.update(
        TEMPORAL_ADDRESS=settings.temporal_address or "",
        DATABASE_URL=settings.database_dsn() or "",
        LLM_CONNECT_URL=settings.llm_connect_url or "",
        STATE_HUB_URL=settings.state_hub_url or "",
        STATE_HUB_TOKEN=settings.state_hub_bearer() or "",
        ACTIVITY_CORE_TASK_QUEUE=settings.task_queue,
        ACTIVITY_CORE_DEFINITIONS_DIR=str(settings.definitions_dir),
        ACTIVITY_CORE_MIGRATIONS_DIR=str(PROJECT_ROOT / "migrations"),
        ACTIVITY_CORE_HEALTH_PORT=str(health_port),
        ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS="10",
        ACTIVITY_CORE_LOG_FORMAT="json",
        ACTIVITY_CORE_LOG_LEVEL="INFO",
    )
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


def _start_worker(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "activity_core", "worker"],
        env=env,
        cwd=cwd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> dict:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(int(timeout / 0.2)):
            if process.poll() is not None:
                raise AssertionError(f"worker exited {process.returncode}:\n{log.read_text()}")
            try:
                response = await client.get(f"{url}/healthz")
                if response.status_code == 200:
                    return response.json()
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"worker never became healthy:\n{log.read_text()}")


@pytest.fixture
def reaper() -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_wheel_built_worker_serves_health_metrics_and_drains_on_sigterm(
    wheel_install: Path, make_settings, tmp_path: Path, temporal_client, definition_id: str, state_hub, reaper
) -> None:
    settings = make_settings()
    port = free_port()
    env = _worker_env(settings, health_port=port, site=wheel_install)
    # The wheel, not the source tree, is what runs: the working directory is elsewhere.
    where = subprocess.run(
        [sys.executable, "-c", "import activity_core; print(activity_core.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(wheel_install))
    migrate = subprocess.run(
        [sys.executable, "-m", "activity_core", "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    log = tmp_path / "worker.log"
    worker = _start_worker(env, tmp_path, log)
    reaper.append(worker)

    health = await _wait_healthy(f"http://127.0.0.1:{port}", worker, log)
    assert {c["name"] for c in health["checks"] if c["ok"]} == {"temporal_worker"}
    async with httpx.AsyncClient(timeout=5) as client:
        ready = (await client.get(f"http://127.0.0.1:{port}/readyz")).json()
    assert {c["name"] for c in ready["checks"] if c["ok"]} == {"temporal_worker", "postgres"}
    summary = await temporal_client.execute_workflow(
        InstructionRun.run,
        RunInput(definition_id=definition_id),
        id=f"manual-{definition_id}",
        task_queue=settings.task_queue,
    )
    assert summary.status == "clean"
    async with httpx.AsyncClient(timeout=5) as client:
        metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    families = {f.name for f in text_string_to_metric_families(metrics)}
    assert any(name.startswith("temporal_") for name in families), sorted(families)[:20]
    assert "activity_core_temporal_metrics_up 1.0" in metrics
    assert f'definition_id="{definition_id}",status="clean"' in metrics

    worker.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.wait, 30) == 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(p.get("workflow_id") == f"manual-{definition_id}" for p in parsed)
    assert state_hub.token not in log.read_text()


async def test_worker_killed_mid_run_is_finished_once_by_another(triage_without_worker, tmp_path: Path, reaper) -> None:
    harness: TriageHarness = triage_without_worker
    harness.llm_connect.queue_faults("execute", "slow:30")
    log = tmp_path / "doomed.log"
    doomed = _start_worker(_worker_env(harness.settings, health_port=0), PROJECT_ROOT, log)
    reaper.append(doomed)
    handle = await harness.start()
    for _ in range(150):
        if harness.llm_connect.requests("execute"):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"the first worker never called llm-connect:\n{log.read_text()}")
    doomed.kill()  # SIGKILL: no drain, no goodbye
    doomed.wait()

    successor = _start_worker(_worker_env(harness.settings, health_port=0), PROJECT_ROOT, tmp_path / "successor.log")
    reaper.append(successor)
    summary = await asyncio.wait_for(handle.result(), timeout=90)

    assert summary.status == "clean"
    rows = await harness.runs.list_runs(RunQuery(definition_id=harness.definition_id))
    assert len(rows) == 1 and rows[0].llm_attempts == 2
    events = [e for e in harness.state_hub.progress_events() if e["idempotency_key"].startswith(f"{handle.id}/")]
    assert len(events) == 1
