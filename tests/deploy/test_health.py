"""The health listener, over real HTTP: the listener itself, then the worker's probes with
PostgreSQL really stopped and started again, and a port clash before anything connects."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pgserver
import pytest
from pydantic import ValidationError

from activity_core.devstack.embedded import free_port, start_postgres
from activity_core.observability.health import (
    CheckResult,
    HealthListenerError,
    HealthServer,
    HealthStatus,
    Probes,
    run_checks,
)
from activity_core.observability.logging import clear_secrets, register_secret
from activity_core.observability.metrics import Metrics, MetricsExposition
from activity_core.settings import Settings
from activity_core.temporal.worker import serve
from tests.fixtures.runtime import stack_settings, write_test_definition

PLANTED = "pg-pass-4c1d9e7f2a3b"


class Flags:
    def __init__(self) -> None:
        self.polling = True
        self.postgres_up = True
        self.postgres_delay = 0.0

    async def postgres(self) -> None:
        await asyncio.sleep(self.postgres_delay)
        if not self.postgres_up:
            raise ConnectionRefusedError(f"connect to postgresql://activity:{PLANTED}@db:5432 refused")

    def probes(self) -> Probes:
        liveness = {"temporal_worker": lambda: self.polling}
        return Probes(liveness=liveness, readiness={"postgres": self.postgres}, timeout_seconds=0.3)


@pytest.fixture
def flags() -> Flags:
    return Flags()


@pytest.fixture
async def server(flags: Flags) -> AsyncIterator[HealthServer]:
    metrics = Metrics()
    metrics.observe_run("daily-statehub-wsjf-triage", "clean", 4)
    probes = flags.probes()
    exposition = MetricsExposition(metrics)
    health = HealthServer("127.0.0.1", 0, liveness=probes.live, readiness=probes.ready, metrics_text=exposition)
    async with health:
        yield health


@pytest.fixture
async def client(server: HealthServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        yield http


async def test_port_zero_binds_a_free_port(server: HealthServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


async def test_healthy_is_200_and_readiness_adds_postgres(client: httpx.AsyncClient) -> None:
    live = await client.get("/healthz")
    ready = await client.get("/readyz")
    assert live.status_code == ready.status_code == 200
    assert live.headers["content-type"] == "application/json"
    assert live.json() == {"status": "ok", "checks": [{"name": "temporal_worker", "ok": True}]}
    assert ready.json() == {
        "status": "ok",
        "checks": [{"name": "temporal_worker", "ok": True}, {"name": "postgres", "ok": True}],
    }


async def test_a_failing_postgres_is_unready_but_alive_and_names_no_secret(
    client: httpx.AsyncClient, flags: Flags
) -> None:
    register_secret(PLANTED)
    try:
        flags.postgres_up = False
        live = await client.get("/healthz")
        ready = await client.get("/readyz")
    finally:
        clear_secrets()
    assert live.status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "fail"
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["temporal_worker"] == {"name": "temporal_worker", "ok": True}
    assert checks["postgres"]["ok"] is False
    assert checks["postgres"]["error"].startswith("ConnectionRefusedError: ")
    assert PLANTED not in ready.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_a_worker_that_stopped_is_503_on_both(client: httpx.AsyncClient, flags: Flags, path: str) -> None:
    flags.polling = False
    response = await client.get(path)
    assert response.status_code == 503
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert checks["temporal_worker"] == {"name": "temporal_worker", "ok": False, "error": "check returned false"}


def test_a_check_is_liveness_or_readiness_never_both() -> None:
    with pytest.raises(ValueError, match="postgres"):
        Probes(liveness={"postgres": lambda: True}, readiness={"postgres": lambda: True})


async def test_a_taken_port_is_a_health_listener_error_naming_the_address() -> None:
    async def ok() -> HealthStatus:
        return HealthStatus()

    async with HealthServer("127.0.0.1", 0, liveness=ok, readiness=ok, metrics_text=lambda: b"") as first:
        taken = first.port
        second = HealthServer("127.0.0.1", taken, liveness=ok, readiness=ok, metrics_text=lambda: b"")
        with pytest.raises(HealthListenerError) as caught:
            await second.start()
    assert caught.value.in_use and caught.value.port == taken
    assert str(caught.value) == f"cannot listen on 127.0.0.1:{taken}: already in use"


async def test_a_hanging_check_times_out_as_503(client: httpx.AsyncClient, flags: Flags) -> None:
    flags.postgres_delay = 2.0
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert "timed out" in checks["postgres"]["error"]


async def test_metrics_is_prometheus_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'activity_core_runs_total{definition_id="daily-statehub-wsjf-triage",status="clean"} 1.0' in response.text


async def test_unknown_paths_are_404_and_other_methods_405(client: httpx.AsyncClient) -> None:
    assert (await client.get("/")).status_code == 404
    assert (await client.get("/healthz/extra")).status_code == 404
    response = await client.post("/healthz", content=b"{}")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


async def test_head_and_query_strings(client: httpx.AsyncClient) -> None:
    head = await client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert (await client.get("/readyz?verbose=1")).status_code == 200


async def test_garbage_gets_400_and_the_server_keeps_serving(server: HealthServer, client: httpx.AsyncClient) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"NONSENSE\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 400")
    assert (await client.get("/healthz")).status_code == 200


async def test_a_probe_that_raises_is_503_not_a_crash(flags: Flags) -> None:
    async def broken() -> HealthStatus:
        raise RuntimeError("probe wiring bug")

    health = HealthServer("127.0.0.1", 0, liveness=broken, readiness=broken, metrics_text=lambda: b"")
    async with health, httpx.AsyncClient(base_url=health.url) as http:
        response = await http.get("/healthz")
        metrics = await http.get("/metrics")
    assert response.status_code == 503
    assert response.json()["checks"] == [{"name": "probe", "ok": False, "error": "RuntimeError: probe wiring bug"}]
    assert metrics.status_code == 200 and metrics.content == b""


async def test_metrics_text_may_be_sync_bytes_and_failures_are_500() -> None:
    calls = 0

    def metrics_text() -> bytes:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("registry broken")
        return b"# HELP x y\n# TYPE x counter\nx_total 1.0\n"

    async def ok() -> HealthStatus:
        return HealthStatus((CheckResult("x", True),))

    health = HealthServer("127.0.0.1", 0, liveness=ok, readiness=ok, metrics_text=metrics_text)
    async with health, httpx.AsyncClient(base_url=health.url) as http:
        first = await http.get("/metrics")
        second = await http.get("/metrics")
    assert first.status_code == 200 and first.text.endswith("x_total 1.0\n")
    assert second.status_code == 500


async def test_stop_closes_the_port_and_is_idempotent() -> None:
    async def ok() -> HealthStatus:
        return HealthStatus()

    health = HealthServer("127.0.0.1", 0, liveness=ok, readiness=ok, metrics_text=lambda: b"")
    await health.start()
    port = health.port
    with pytest.raises(RuntimeError):
        await health.start()
    await health.stop()
    await health.stop()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_stop_does_not_wait_for_an_idle_connection() -> None:
    async def ok() -> HealthStatus:
        return HealthStatus()

    health = HealthServer(
        "127.0.0.1", 0, liveness=ok, readiness=ok, metrics_text=lambda: b"", request_timeout_seconds=30
    )
    await health.start()
    _reader, writer = await asyncio.open_connection("127.0.0.1", health.port)
    writer.write(b"GET /healthz HTTP/1.1\r\n")  # never finishes its headers
    await writer.drain()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(health.stop(), 3)
    writer.close()


async def test_run_checks_treats_exceptions_false_and_timeouts_as_failures() -> None:
    async def slow() -> None:
        await asyncio.sleep(1)

    def boom() -> None:
        raise ValueError("bad")

    status = await run_checks(
        {"sync_ok": lambda: True, "none_ok": lambda: None, "false": lambda: False, "boom": boom, "slow": slow},
        timeout_seconds=0.1,
    )
    assert not status.ok
    assert {c.name: c.ok for c in status.checks} == {
        "sync_ok": True,
        "none_ok": True,
        "false": False,
        "boom": False,
        "slow": False,
    }
    assert HealthStatus().ok and HealthStatus.of(a=True).ok and not HealthStatus.of(a=True, b=False).ok


# --- the worker's probes, with PostgreSQL really stopped -------------------------------


async def _probe_until(url: str, status: int, worker: asyncio.Task[None], timeout: float = 60.0) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as http:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if worker.done():
                worker.result()  # raises what stopped the worker
                raise AssertionError("the worker stopped on its own")
            try:
                response = await http.get(url)
                if response.status_code == status:
                    return response
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{url} never answered {status}")
            await asyncio.sleep(0.2)


@pytest.mark.integration
async def test_a_postgres_outage_makes_the_worker_unready_never_dead(
    tmp_path: Path, server_dir: Path, temporal_address: str, state_hub, llm_connect, definition_id: str
) -> None:
    """Liveness stays 200 while PostgreSQL is down (no restart cuts an in-flight llm-connect
    call); readiness is 503 naming postgres, and 200 again once PostgreSQL is back."""
    # A server of the test's own, in the session's server directory: PostgreSQL runs as another
    # user, which pytest's basetemp (made private again by every concurrent pytest) would lock out.
    postgres = start_postgres(server_dir / f"outage-{definition_id}", keep_data=False)
    server = postgres.server
    try:
        write_test_definition(tmp_path / "definitions", definition_id)
        port = free_port()
        settings = stack_settings(
            temporal_address=temporal_address,
            database_url=postgres.dsn,
            state_hub=state_hub,
            llm_connect=llm_connect,
            definitions_dir=tmp_path / "definitions",
            definition_id=definition_id,
            data_dir=tmp_path / "data",
        ).model_copy(update={"health_host": "127.0.0.1", "health_port": port})
        stop = asyncio.Event()
        worker = asyncio.create_task(serve(settings, stop=stop))
        base = f"http://127.0.0.1:{port}"
        try:
            await _probe_until(f"{base}/readyz", 200, worker)

            stop_postgres = ["-w", "-m", "fast", "stop"]
            await asyncio.to_thread(pgserver.pg_ctl, stop_postgres, pgdata=server.pgdata, user=server.system_user)
            unready = await _probe_until(f"{base}/readyz", 503, worker, timeout=15)
            checks = {c["name"]: c for c in unready.json()["checks"]}
            assert checks["temporal_worker"]["ok"] is True
            assert checks["postgres"]["ok"] is False and checks["postgres"]["error"]
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                for _ in range(5):  # alive throughout the outage, and it never asks PostgreSQL
                    live = await http.get("/healthz")
                    assert live.status_code == 200, live.text
                    assert [c["name"] for c in live.json()["checks"]] == ["temporal_worker"]
                    assert (await http.get("/readyz")).status_code == 503
                    await asyncio.sleep(0.3)
                scrape = await http.get("/metrics")
                assert "\nactivity_core_worker_running 1.0\n" in scrape.text  # what the no-worker alert reads

            await asyncio.to_thread(server.ensure_postgres_running)
            ready = await _probe_until(f"{base}/readyz", 200, worker, timeout=30)
            assert {c["name"] for c in ready.json()["checks"] if c["ok"]} == {"temporal_worker", "postgres"}
        finally:
            stop.set()
            await asyncio.wait_for(worker, 60)
    finally:
        postgres.stop()


def test_a_taken_health_port_is_one_line_and_exit_2_before_connecting_to_anything(tmp_path: Path) -> None:
    with contextlib.ExitStack() as held:
        taken, temporal, database = (held.enter_context(_listening_socket()) for _ in range(3))
        port = taken.getsockname()[1]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ACTIVITY_CORE_", "TEMPORAL_", "DATABASE_"))},
            "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal.getsockname()[1]}",
            "DATABASE_URL": f"postgresql://activity:{PLANTED}@127.0.0.1:{database.getsockname()[1]}/activity",
            "LLM_CONNECT_URL": "http://127.0.0.1:9",
            "STATE_HUB_URL": "http://127.0.0.1:9",
            "ACTIVITY_CORE_HEALTH_HOST": "127.0.0.1",
            "ACTIVITY_CORE_HEALTH_PORT": str(port),
        }
        done = subprocess.run(
            [sys.executable, "-m", "activity_core", "worker"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        nobody_called = [_accepted_nothing(s) for s in (temporal, database)]
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip()
    assert f"127.0.0.1:{port}" in line and "already in use" in line and "ACTIVITY_CORE_HEALTH_PORT" in line, line
    assert PLANTED not in done.stderr + done.stdout
    assert nobody_called == [True, True], "the worker connected to Temporal or PostgreSQL before binding its port"


@contextlib.contextmanager
def _listening_socket() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def _accepted_nothing(sock: socket.socket) -> bool:
    try:
        connection, _ = sock.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


@pytest.mark.parametrize("value", ["localhost", "0.0.0.0:8081", "300.1.1.1"])  # empty means unset
def test_the_health_host_must_be_an_ip_address(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVITY_CORE_HEALTH_HOST", value)
    with pytest.raises(ValidationError, match="ACTIVITY_CORE_HEALTH_HOST must be an IP address"):
        Settings()


@pytest.mark.parametrize(("value", "bound"), [(" 127.0.0.1 ", "127.0.0.1"), ("::", "::"), ("0:0::0", "::")])
def test_the_health_host_is_normalised(value: str, bound: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVITY_CORE_HEALTH_HOST", value)
    assert Settings().health_host == bound
    monkeypatch.delenv("ACTIVITY_CORE_HEALTH_HOST")
    assert Settings().health_host == "0.0.0.0"
