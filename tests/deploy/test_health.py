"""The health listener, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from activity_core.observability.health import CheckResult, HealthServer, HealthStatus, run_checks
from activity_core.observability.logging import clear_secrets, register_secret
from activity_core.observability.metrics import Metrics, MetricsExposition

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

    def checks(self) -> dict[str, Callable]:
        return {"temporal_worker": lambda: self.polling, "postgres": self.postgres}


@pytest.fixture
def flags() -> Flags:
    return Flags()


@pytest.fixture
async def server(flags: Flags) -> AsyncIterator[HealthServer]:
    metrics = Metrics()
    metrics.observe_run("daily-statehub-wsjf-triage", "clean", 4)
    health = HealthServer(
        "127.0.0.1",
        0,
        liveness=lambda: run_checks(flags.checks(), timeout_seconds=0.3),
        readiness=lambda: run_checks(flags.checks(), timeout_seconds=0.3),
        metrics_text=MetricsExposition(metrics),
    )
    async with health:
        yield health


@pytest.fixture
async def client(server: HealthServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        yield http


async def test_port_zero_binds_a_free_port(server: HealthServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_healthy_is_200_with_each_check(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "checks": [{"name": "temporal_worker", "ok": True}, {"name": "postgres", "ok": True}],
    }


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_a_failing_check_is_503_naming_it_without_secrets(client: httpx.AsyncClient, flags: Flags, path: str) -> None:
    register_secret(PLANTED)
    try:
        flags.postgres_up = False
        response = await client.get(path)
    finally:
        clear_secrets()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["temporal_worker"] == {"name": "temporal_worker", "ok": True}
    assert checks["postgres"]["ok"] is False
    assert checks["postgres"]["error"].startswith("ConnectionRefusedError: ")
    assert PLANTED not in response.text


async def test_a_worker_that_stopped_polling_is_503(client: httpx.AsyncClient, flags: Flags) -> None:
    flags.polling = False
    response = await client.get("/healthz")
    assert response.status_code == 503
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert checks["temporal_worker"] == {"name": "temporal_worker", "ok": False, "error": "check returned false"}


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

    async with HealthServer("127.0.0.1", 0, liveness=broken, readiness=broken, metrics_text=lambda: b"") as health:
        async with httpx.AsyncClient(base_url=health.url) as http:
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

    async with HealthServer("127.0.0.1", 0, liveness=ok, readiness=ok, metrics_text=metrics_text) as health:
        async with httpx.AsyncClient(base_url=health.url) as http:
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

    health = HealthServer("127.0.0.1", 0, liveness=ok, readiness=ok, metrics_text=lambda: b"", request_timeout_seconds=30)
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
