"""What both service clients share: one attempt per call, and errors that say what failed
without carrying what was sent.

Retries are not here on purpose: Temporal's activity retry policy owns them, and it
decides from the ``retryable`` flag each error carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Self

import httpx
from pydantic import ValidationError

EXCERPT_LIMIT = 300
REDACTED = "[redacted]"


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


class ServiceClient:
    """The lifecycle both clients share: one pooled ``httpx.AsyncClient``, closed on exit.

    Proxy and certificate environment variables are ignored (``trust_env=False``): both
    services are in-cluster, and only ``settings.py`` reads the environment.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
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


async def send_once(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    service: str,
    timeout_error: type[ServiceError],
    transport_error: type[ServiceError],
    **request: Any,
) -> httpx.Response:
    """One request, with httpx's exceptions turned into the service's own.

    httpx's messages name the failure (refused, reset, DNS), never headers or bodies, so
    they are safe to keep.
    """
    try:
        return await http.request(method, path, **request)
    except httpx.TimeoutException as exc:
        raise timeout_error(f"{service} {method} {path}: no response in time ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise transport_error(f"{service} {method} {path}: {type(exc).__name__}: {exc}") from exc


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


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body; raises ``ValueError`` naming the content type when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        content_type = response.headers.get("content-type", "no content type")
        raise ValueError(f"body is not JSON ({content_type}, {len(response.content)} bytes)") from None
