"""The worker's small HTTP listener: ``/healthz``, ``/readyz`` and ``/metrics``.

Stdlib asyncio only, GET and HEAD only, one request per connection. The checks are callables
the worker supplies, so this module knows nothing of Temporal or PostgreSQL. :class:`Probes`
keeps liveness and readiness apart, because Kubernetes acts on them differently: a failed
liveness probe restarts the pod (cutting off its in-flight llm-connect calls), a failed
readiness probe only marks it unready. So liveness holds only what a restart can cure (the
Temporal worker stopped), and readiness adds the dependencies an outage of which a restart
cannot cure (PostgreSQL)::

    probes = Probes(
        liveness={"temporal_worker": lambda: worker.is_running},
        readiness={"postgres": runs.ping},
    )
    server = HealthServer(
        settings.health_host, settings.health_port,
        liveness=probes.live, readiness=probes.ready,
        metrics_text=MetricsExposition(metrics, temporal_metrics_url=...),
    )
    await server.start()      # HealthListenerError when the address cannot be bound
    ...
    await server.stop()

``/healthz`` and ``/readyz`` answer 200 when every check is ok and 503 otherwise, with a JSON
body naming each check, ``ok`` and, for a failed one, a short error (its exception class and
message, with registered secrets replaced by ``***``). ``/metrics`` answers the Prometheus
text format. Any other path is 404; other methods 405.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from activity_core.observability.logging import redact
from activity_core.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

__all__ = [
    "CheckResult",
    "HealthListenerError",
    "HealthServer",
    "HealthStatus",
    "Probes",
    "run_checks",
]

_ERROR_LIMIT = 200
_MAX_REQUEST_BYTES = 8192
_JSON = "application/json"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "ok": self.ok}
        if self.error is not None:
            body["error"] = self.error
        return body


@dataclass(frozen=True)
class HealthStatus:
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def of(cls, **results: bool) -> HealthStatus:
        """``HealthStatus.of(temporal_poller=True, postgres=False)``."""
        return cls(tuple(CheckResult(name, bool(ok), None if ok else "failed") for name, ok in results.items()))


def describe_error(exc: BaseException) -> str:
    """``ClassName: message``, bounded and with registered secrets redacted."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    text = redact(text)
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 3] + "..."


Check = Callable[[], Awaitable[Any] | Any]


async def run_checks(checks: Mapping[str, Check], *, timeout_seconds: float = 3.0) -> HealthStatus:
    """Run every check concurrently; a check passes unless it raises, times out or returns False."""

    async def one(name: str, check: Check) -> CheckResult:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout_seconds)
        except TimeoutError:
            return CheckResult(name, False, f"timed out after {timeout_seconds:g}s")
        except Exception as exc:
            return CheckResult(name, False, describe_error(exc))
        if result is False:
            return CheckResult(name, False, "check returned false")
        return CheckResult(name, True)

    results = await asyncio.gather(*(one(name, check) for name, check in checks.items()))
    return HealthStatus(tuple(results))


class Probes:
    """Liveness checks, and the checks readiness adds to them.

    Readiness runs every liveness check too: a worker that is not alive is never ready. The
    mappings are kept by reference, so a check registered after the listener started (the
    listener binds before anything connects) is picked up by the next probe.
    """

    def __init__(
        self,
        liveness: Mapping[str, Check],
        readiness: Mapping[str, Check],
        *,
        timeout_seconds: float = 3.0,
    ) -> None:
        overlap = set(liveness) & set(readiness)
        if overlap:
            raise ValueError(f"a check is either liveness or readiness, not both: {sorted(overlap)}")
        self.liveness = liveness
        self.readiness = readiness
        self.timeout_seconds = timeout_seconds

    async def live(self) -> HealthStatus:
        return await run_checks(self.liveness, timeout_seconds=self.timeout_seconds)

    async def ready(self) -> HealthStatus:
        return await run_checks({**self.liveness, **self.readiness}, timeout_seconds=self.timeout_seconds)


class HealthListenerError(RuntimeError):
    """The listener could not bind ``host:port``; ``in_use`` when another process holds the port."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        self.host = host
        self.port = port
        self.in_use = cause.errno == errno.EADDRINUSE
        reason = "already in use" if self.in_use else (cause.strerror or str(cause))
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


class HealthServer:
    """``/healthz``, ``/readyz`` and ``/metrics`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        liveness: Callable[[], Awaitable[HealthStatus]],
        readiness: Callable[[], Awaitable[HealthStatus]],
        metrics_text: Callable[[], Awaitable[bytes] | bytes],
        request_timeout_seconds: float = 5.0,
        check_timeout_seconds: float = 5.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._liveness = liveness
        self._readiness = readiness
        self._metrics_text = metrics_text
        self._request_timeout = request_timeout_seconds
        self._check_timeout = check_timeout_seconds
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`), else the configured one."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._requested_port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("health server already started")
        try:
            self._server = await asyncio.start_server(
                self._on_connection, self.host, self._requested_port, limit=_MAX_REQUEST_BYTES
            )
        except OSError as exc:
            raise HealthListenerError(self.host, self._requested_port, exc) from exc

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2.0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- HTTP ------------------------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self._request_timeout)
        except asyncio.LimitOverrunError:
            await self._respond(writer, 431, _JSON, _json({"error": "request header too large"}))
            return
        if len(head) > _MAX_REQUEST_BYTES:
            await self._respond(writer, 431, _JSON, _json({"error": "request header too large"}))
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await self._respond(writer, 400, _JSON, _json({"error": "bad request"}))
            return
        method, target, _version = parts
        path = target.split("?", 1)[0]
        head_only = method == "HEAD"
        if method not in ("GET", "HEAD"):
            await self._respond(
                writer, 405, _JSON, _json({"error": "method not allowed"}), extra_headers={"Allow": "GET, HEAD"}
            )
            return

        if path == "/healthz":
            status, body = await self._health(self._liveness)
            await self._respond(writer, status, _JSON, body, head_only=head_only)
        elif path == "/readyz":
            status, body = await self._health(self._readiness)
            await self._respond(writer, status, _JSON, body, head_only=head_only)
        elif path == "/metrics":
            try:
                text = self._metrics_text()
                if inspect.isawaitable(text):
                    text = await asyncio.wait_for(text, self._check_timeout)
            except Exception as exc:
                await self._respond(writer, 500, _JSON, _json({"error": describe_error(exc)}), head_only=head_only)
                return
            data = text.encode() if isinstance(text, str) else bytes(text)
            await self._respond(writer, 200, METRICS_CONTENT_TYPE, data, head_only=head_only)
        else:
            await self._respond(writer, 404, _JSON, _json({"error": "not found"}), head_only=head_only)

    async def _health(self, probe: Callable[[], Awaitable[HealthStatus]]) -> tuple[int, bytes]:
        try:
            status = await asyncio.wait_for(probe(), self._check_timeout)
        except TimeoutError:
            status = HealthStatus((CheckResult("probe", False, f"timed out after {self._check_timeout:g}s"),))
        except Exception as exc:
            status = HealthStatus((CheckResult("probe", False, describe_error(exc)),))
        return (200 if status.ok else 503), _json(status.to_dict())

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter,
        status: int,
        content_type: str,
        body: bytes,
        *,
        head_only: bool = False,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        reason = _REASONS.get(status, "")
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Cache-Control": "no-store",
            "Connection": "close",
            **(extra_headers or {}),
        }
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1") + (b"" if head_only else body))
        await writer.drain()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _json(payload: Mapping[str, Any]) -> bytes:
    return redact(json.dumps(payload, ensure_ascii=False)).encode() + b"\n"
