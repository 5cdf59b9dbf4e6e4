"""Plumbing both service emulators share: a real HTTP server on loopback in a background
thread, a FIFO fault queue per route, a request log, and the ``/_emulator/`` control
endpoints that make a subprocess emulator as controllable as an in-process one.

A service emulator only declares its named routes (method, path, handler, and the
service-specific faults the route understands) and its state; everything here is
service-agnostic. All state lives on the server object, and every handler runs under the
server's lock, so service code needs no locking of its own.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

CONTROL_PREFIX = "/_emulator/"
HTTP_ERROR_FAULTS = {"http_500": 500, "http_502": 502, "http_503": 503}
# echo_request_500: a misbehaving service that quotes the request (body, then headers) in
# its error; proves the clients scrub what they quote. not_json_200: a 200 that is not
# JSON at all, as from a captive proxy or a wrong URL; proves contract checking.
# deep_json_200: "[" a hundred thousand times (nst/JSONTestSuite's deep nest), which makes a
# JSON decoder recurse out. not_utf8_200: JSON bytes with a byte that is not UTF-8.
GENERIC_FAULTS = frozenset(
    {*HTTP_ERROR_FAULTS, "drop_connection", "echo_request_500", "not_json_200", "deep_json_200", "not_utf8_200"}
)
DEEP_NESTING = 100_000
# slow:<seconds>: wait, then answer. drip:<bytes>:<seconds>: the normal answer, <bytes> at a
# time with <seconds> between (headers at once), so only a deadline on the whole call ends it.
# oversized_200:<bytes>: a 200 JSON body of that size with no Content-Length (it ends when
# the connection closes), so only counting while reading can cap it.
SLOW_FAULT = re.compile(r"slow:(\d+(?:\.\d+)?)")
DRIP_FAULT = re.compile(r"drip:(\d+):(\d+(?:\.\d+)?)")
OVERSIZED_FAULT = re.compile(r"oversized_200:(\d+)")
PARAMETERISED_FAULTS = (SLOW_FAULT, DRIP_FAULT, OVERSIZED_FAULT)


@dataclass(frozen=True)
class RecordedRequest:
    route: str | None  # the route's name; None for a path the service does not serve
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    text: str  # the body as sent

    def json(self) -> Any:
        """The decoded body; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.text)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # str: sent as text/plain; None: no body; anything else: JSON


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[RecordedRequest, str | None], Reply]
    faults: frozenset[str] = field(default_factory=frozenset)  # service-specific faults it understands


class EmulatorApp(ABC):
    """The service-specific part of an emulator."""

    routes: dict[str, Route]  # by name: the name is what faults are queued on

    def route_for(self, method: str, path: str) -> str | None:
        return next((name for name, r in self.routes.items() if (r.method, r.path) == (method, path)), None)

    def handle(self, route: str, request: RecordedRequest, fault: str | None) -> Reply:
        """Answer a request that no generic fault intercepted; ``fault`` is a service-specific
        fault of this route, or None."""
        return self.routes[route].handler(request, fault)

    def control(self, request: RecordedRequest) -> Reply | None:
        """Service-specific ``/_emulator/`` endpoints; None for an unknown one."""
        return None

    @abstractmethod
    def reset(self) -> None:
        """Back to the freshly started state."""


def field_problems(
    body: Any,
    required: Mapping[str, type | tuple[type, ...]],
    optional: Mapping[str, type | tuple[type, ...]] | None = None,
) -> list[str]:
    """What is wrong with a JSON object's field types (``bool`` never passes for a number)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = [f"{name} is required" for name in required if name not in body]
    for name, expected in {**required, **(optional or {})}.items():
        if name not in body:
            continue
        value = body[name]
        if isinstance(value, bool) and bool not in _as_tuple(expected) or not isinstance(value, expected):
            problems.append(f"{name} must be {_type_names(expected)}")
    return problems


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _type_names(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", dict: "an object", list: "an array"}
    types = _as_tuple(expected)
    types = tuple(t for t in types if not (t is int and float in types))  # (int, float) reads "a number"
    return " or ".join(names.get(t, "null" if t is type(None) else t.__name__) for t in types)


AppT = TypeVar("AppT", bound=EmulatorApp)


class EmulatorServer(ThreadingHTTPServer, Generic[AppT]):
    daemon_threads = True
    block_on_close = False  # a request sleeping in a slow: fault must not hold up stop()

    def __init__(self, app: AppT, host: str, port: int):
        super().__init__((host, port), _Handler)
        self.app = app
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.faults: dict[str, deque[str]] = {}
        self.requests: list[RecordedRequest] = []

    def queue_faults(self, route: str, faults: list[str]) -> None:
        """Append faults to ``route``'s queue; each is consumed by one request, in order.
        Raises ``ValueError`` for an unknown route or a fault the route does not understand."""
        if route not in self.app.routes:
            raise ValueError(f"unknown route {route!r}; routes: {sorted(self.app.routes)}")
        for fault in faults:
            parameterised = any(pattern.fullmatch(fault) for pattern in PARAMETERISED_FAULTS)
            if not (fault in GENERIC_FAULTS or parameterised or fault in self.app.routes[route].faults):
                known = sorted(GENERIC_FAULTS | self.app.routes[route].faults) + [
                    "slow:<seconds>",
                    "drip:<bytes>:<seconds>",
                    "oversized_200:<bytes>",
                ]
                raise ValueError(f"fault {fault!r} does not apply to {route}; known: {known}")
        with self.lock:
            self.faults.setdefault(route, deque()).extend(faults)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.app.reset()

    def control(self, request: RecordedRequest) -> Reply:
        """The ``/_emulator/`` endpoints, mirroring the Python handle's methods."""
        action = f"{request.method} {request.path.removeprefix(CONTROL_PREFIX)}"
        if action == "POST faults":
            try:
                body = request.json()
                self.queue_faults(body["route"], list(body["faults"]))
            except (ValueError, KeyError, TypeError) as exc:
                return Reply(400, {"detail": f"expected {{'route': ..., 'faults': [...]}}: {exc}"})
            return Reply(200, {"queued": len(body["faults"])})
        if action == "POST reset":
            self.reset()
            return Reply(200, {"reset": True})
        if action == "GET requests":
            with self.lock:
                return Reply(200, [asdict(r) for r in self.requests])
        with self.lock:
            reply = self.app.control(request)
        return reply or Reply(404, {"detail": f"no control endpoint {request.method} {request.path}"})

    def take_fault(self, route: str) -> str | None:
        with self.lock:
            queue = self.faults.get(route)
            return queue.popleft() if queue else None


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer[Any]

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read the request log, and stderr noise hides real failures."""

    def _dispatch(self) -> None:
        request = self._read_request()
        if request.path.startswith(CONTROL_PREFIX):
            self._send(self.server.control(request))
            return
        with self.server.lock:
            self.server.requests.append(request)
        route = request.route
        if route is None:
            self._send(Reply(404, {"detail": f"no route {request.method} {request.path}"}))
            return
        fault = self.server.take_fault(route)
        if fault and (slow := SLOW_FAULT.fullmatch(fault)):
            self.server.stopping.wait(float(slow.group(1)))
            fault = None
        if fault == "drop_connection":
            self.close_connection = True  # nothing written: the client sees the socket close
            return
        if fault in HTTP_ERROR_FAULTS:
            status = HTTP_ERROR_FAULTS[fault]
            self._send(Reply(status, f"emulated {status} {HTTPStatus(status).phrase}"))
            return
        if fault == "echo_request_500":
            echo = (
                f"{request.method} {request.path} failed; "
                f"request body: {request.text}; request headers: {request.headers}"
            )
            self._send(Reply(500, {"error": {"type": "internal_error", "message": echo, "retryable": True}}))
            return
        if fault == "not_json_200":
            self._send(Reply(200, "<html><body>Sign in to continue</body></html>"))
            return
        if fault == "deep_json_200":
            self._send_bytes(200, b"[" * DEEP_NESTING, "application/json")
            return
        if fault == "not_utf8_200":
            self._send_bytes(200, b'{"content": "caf\xe9 \xff\xfe", "status": "ok"}', "application/json")
            return
        if fault and (oversized := OVERSIZED_FAULT.fullmatch(fault)):
            self._send_unbounded(int(oversized.group(1)))
            return
        drip = DRIP_FAULT.fullmatch(fault) if fault else None
        with self.server.lock:
            reply = self.server.app.handle(route, request, None if drip else fault)
        if drip:
            self._send_dripping(reply, int(drip.group(1)), float(drip.group(2)))
        else:
            self._send(reply)

    def _read_request(self) -> RecordedRequest:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        return RecordedRequest(
            route=self.server.app.route_for(self.command, url.path),
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            text=self.rfile.read(length).decode("utf-8", errors="replace") if length else "",
        )

    def _send(self, reply: Reply) -> None:
        data, content_type = _encoded(reply)
        self._send_bytes(reply.status, data, content_type)

    def _send_bytes(self, status: int, data: bytes, content_type: str | None) -> None:
        try:
            self._send_headers(status, content_type, len(data))
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (its timeout ran out during a slow: fault)

    def _send_headers(self, status: int, content_type: str | None, length: int | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def _send_dripping(self, reply: Reply, chunk: int, pause: float) -> None:
        data, content_type = _encoded(reply)
        try:
            self._send_headers(reply.status, content_type, len(data))
            for start in range(0, len(data), max(chunk, 1)):
                if start and self.server.stopping.wait(pause):
                    return
                self.wfile.write(data[start : start + chunk])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client's deadline cut the answer off

    def _send_unbounded(self, size: int) -> None:
        self.close_connection = True  # the body ends where the connection does
        try:
            self._send_headers(200, "application/json", None)
            self.wfile.write(b'{"content": "')
            block = b"x" * 65536
            for start in range(0, size, len(block)):
                self.wfile.write(block[: min(len(block), size - start)])
            self.wfile.write(b'"}')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its cap


def _encoded(reply: Reply) -> tuple[bytes, str | None]:
    if reply.body is None:
        return b"", None
    if isinstance(reply.body, str):
        return reply.body.encode(), "text/plain; charset=utf-8"
    return json.dumps(reply.body).encode(), "application/json"


class EmulatorHandle(Generic[AppT]):
    """A started emulator: its URL, fault injection, the request log, and stop()."""

    def __init__(self, app: AppT, *, host: str = "127.0.0.1", port: int = 0):
        self._server = EmulatorServer(app, host, port)
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how long stop() may wait for the serving loop
            name=f"{type(app).__name__}@{port}",
            daemon=True,
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def queue_faults(self, route: str, *faults: str) -> None:
        """Queue faults on the named route (``"progress"``); see ``EmulatorServer.queue_faults``."""
        self._server.queue_faults(route, list(faults))

    def requests(self, route: str | None = None) -> list[RecordedRequest]:
        """The requests served so far (on the named route), oldest first; control calls excluded."""
        with self._server.lock:
            return [r for r in self._server.requests if route is None or r.route == route]

    def reset(self) -> None:
        """Empty the fault queues and the request log and restore the service's initial state."""
        self._server.reset()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @contextmanager
    def _app(self) -> Iterator[AppT]:
        """The service state, held under the server lock (for a subclass's accessors)."""
        with self._server.lock:
            yield self._server.app


def argument_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 = a free port)")
    return parser


def serve_until_terminated(handle: EmulatorHandle[Any]) -> None:
    """Subprocess mode: the URL on the first stdout line, then serve until SIGTERM or SIGINT."""
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    print(handle.url, flush=True)
    try:
        done.wait()
    finally:
        handle.stop()
