"""What the service clients share: one attempt per call, bounded in time end to end and in
bytes, and errors that say what failed without carrying what was sent.

Retries are not here on purpose: Temporal's activity retry policy owns them, and it
decides from the ``retryable`` flag each error carries.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

import httpx
from pydantic import ValidationError

EXCERPT_LIMIT = 300
REDACTED = "[redacted]"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


class ServiceError(Exception):
    """Base of both clients' error trees.

    ``failure_class`` is the label an operator reads on a failed run; ``retryable`` tells the
    activity whether another attempt can help. Subclasses set both as class defaults; an
    instance overrides ``retryable`` when the service said so itself.
    """

    failure_class: str = "failed"
    retryable: bool = False

    def __init__(self, message: str, *, status_code: int | None = None, retryable: bool | None = None):
        super().__init__(message)
        self.status_code = status_code
        if retryable is not None:
            self.retryable = retryable


@dataclass(frozen=True)
class ServiceErrors:
    """The error classes one service raises for the failures every call can meet."""

    service: str  # as it starts each message: "llm-connect", "State Hub"
    timeout: type[ServiceError]
    transport: type[ServiceError]
    contract: type[ServiceError]


@dataclass(frozen=True)
class ServiceResponse:
    """A whole answer, read within the call's time budget and size cap."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        """The body for quoting in an error message; bytes that are not UTF-8 shown as U+FFFD."""
        return self.content.decode("utf-8", errors="replace")


class ServiceClient:
    """The lifecycle the clients share: one pooled ``httpx.AsyncClient``, closed on exit, and
    the limits every call of the client runs under.

    ``budget_seconds`` bounds each call end to end (connecting, the headers and the whole
    body); httpx's own timeouts only bound each step, so an answer trickled a few bytes at a
    time would otherwise never time out. ``max_body_bytes`` caps what a response may make us
    hold in memory. Proxy and certificate environment variables are ignored
    (``trust_env=False``): the services are in-cluster, and only ``settings.py`` reads the
    environment.
    """

    def __init__(
        self,
        base_url: str,
        *,
        errors: ServiceErrors,
        budget_seconds: float,
        connect_seconds: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if budget_seconds <= 0 or max_body_bytes <= 0:
            raise ValueError("budget_seconds and max_body_bytes must be positive")
        self.base_url = base_url
        self.errors = errors
        self.budget_seconds = budget_seconds
        self.max_body_bytes = max_body_bytes
        self._token = token  # kept only to blank it out of quoted response text
        headers = {"Authorization": f"Bearer {token}"} if token else None
        timeout = httpx.Timeout(budget_seconds, connect=min(budget_seconds, connect_seconds or budget_seconds))
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, headers=headers, transport=transport, trust_env=False
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, method: str, path: str, *, max_body_bytes: int | None = None, **request: Any
    ) -> ServiceResponse:
        """One request under the client's budget and cap (``max_body_bytes`` overrides the cap)."""
        return await send_once(
            self._http,
            method,
            path,
            errors=self.errors,
            budget_seconds=self.budget_seconds,
            max_body_bytes=max_body_bytes or self.max_body_bytes,
            **request,
        )


class _BodyTooLarge(Exception):
    pass


async def send_once(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    errors: ServiceErrors,
    budget_seconds: float,
    max_body_bytes: int,
    **request: Any,
) -> ServiceResponse:
    """One request, bounded end to end by ``budget_seconds`` and its body by ``max_body_bytes``,
    with httpx's exceptions turned into the service's own.

    The body is streamed and counted as it arrives (after content decoding, so a compressed
    bomb counts at its real size): a body over the cap ends the call as a contract error
    without being held. httpx's messages name the failure (refused, reset, DNS), never
    headers or bodies, so they are safe to keep.
    """
    where = f"{errors.service} {method} {path}"
    status: int | None = None
    try:
        async with asyncio.timeout(budget_seconds):
            async with http.stream(method, path, **request) as response:
                status = response.status_code
                content = await _read_capped(response, max_body_bytes)
                return ServiceResponse(response.status_code, response.headers, content)
    except TimeoutError:
        raise errors.timeout(f"{where}: no complete answer within the {budget_seconds:g} s budget") from None
    except httpx.TimeoutException as exc:
        raise errors.timeout(f"{where}: no response in time ({type(exc).__name__})") from None
    except _BodyTooLarge:
        raise errors.contract(
            f"{where} answered {status} with a body over the {max_body_bytes} byte cap of this call", status_code=status
        ) from None
    except httpx.DecodingError as exc:
        raise errors.contract(
            f"{where} answered {status} with a body that cannot be decoded: {exc}", status_code=status
        ) from None
    except httpx.TransportError as exc:
        raise errors.transport(f"{where}: {type(exc).__name__}: {exc}") from None


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def excerpt(text: str, *, secrets: Iterable[str | None] = (), limit: int = EXCERPT_LIMIT) -> str:
    """A one-line, bounded piece of another service's text for an error message, with every
    secret we hold blanked out first (a service or proxy may echo our request back)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text or "(empty body)"


def describe_validation_error(exc: ValidationError, *, max_errors: int = 5) -> str:
    """Where and how a body broke the contract, without pydantic's ``input_value`` echo
    (which would copy the offending data, possibly a prompt, into the message)."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '(body)'}: {err['msg']}" for err in errors[:max_errors]]
    if len(errors) > max_errors:
        parts.append(f"... {len(errors) - max_errors} more")
    return "; ".join(parts)


def json_body(response: ServiceResponse) -> Any:
    """The decoded JSON body; ``ValueError`` saying why when it has none.

    JSON on the wire is UTF-8 (RFC 8259), so other bytes are refused rather than guessed at;
    a hostile nesting (``[`` a hundred thousand times) makes the decoder recurse out, which is
    a ``RecursionError``, not a ``ValueError``: it is caught here so that such a body is a
    contract error like any other undecodable one, never mistaken for something else.
    """
    content_type = response.headers.get("content-type", "no content type")
    what = f"({content_type}, {len(response.content)} bytes)"
    try:
        text = response.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not UTF-8 {what}: invalid byte at offset {exc.start}") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"body nests too deeply to decode {what}") from None
    except ValueError:
        raise ValueError(f"body is not JSON {what}") from None
