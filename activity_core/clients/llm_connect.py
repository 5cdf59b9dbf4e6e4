"""Async client for llm-connect, the service that runs a prompt against a named model profile.

Errors are sorted so that an operator reading a failed run sees at once whether the
network (``failed_llm_transport``), the clock (``failed_llm_timeout``), the provider
(``failed_llm_provider``) or the configuration (``failed_config``) failed. Output that
parses badly is not this module's business: ``content`` comes back as the raw string and
the boundary parser judges it. A call is bounded end to end by the client's budget and its
answer by a byte cap the caller passes per call::

    LlmConnectError
    ├── LlmConnectTransportError      failed_llm_transport  retryable: no HTTP answer at all
    ├── LlmConnectTimeout             failed_llm_timeout    retryable: the call's budget ran out
    ├── LlmConnectProviderError       failed_llm_provider   retryable unless llm-connect says not
    ├── LlmConnectConfigurationError  failed_config         never retried
    └── LlmConnectContractError       failed_llm_provider   not retried: undecodable or oversized body
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from activity_core.clients._http import (
    DEFAULT_MAX_BODY_BYTES,
    REDACTED,
    ServiceClient,
    ServiceError,
    ServiceErrors,
    ServiceResponse,
    describe_validation_error,
    excerpt,
    json_body,
)


class LlmConnectApi:
    """Everything we assume about llm-connect's HTTP surface (see
    ../shared/contracts/llm-connect.md): aligning with the real service is a change here."""

    SERVICE = "llm-connect"
    HEALTH = "/health"
    EXECUTE = "/execute"
    REQUEST_ID_HEADER = "X-Request-ID"
    SOURCE_HEADER = "X-Activity-Source"
    # error.type values of the structured error body {"error": {"type", "message", "retryable"}}
    CONFIGURATION_ERROR_TYPES = frozenset({"configuration_error", "profile_validation_error", "validation_error"})
    PROVIDER_ERROR_TYPES = frozenset(
        {"provider_error", "api_error", "timeout", "timeout_error", "malformed_structured_output"}
    )
    # 4xx answers that mean "busy, try later" rather than "you asked wrongly"
    RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


class LlmConnectError(ServiceError):
    """Base of llm-connect failures. ``error_type`` is llm-connect's own ``error.type``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        retryable: bool | None = None,
    ):
        super().__init__(message, status_code=status_code, retryable=retryable)
        self.error_type = error_type


class LlmConnectTransportError(LlmConnectError):
    """No HTTP answer at all: refused, reset, DNS, or the connection dropped mid-call."""

    failure_class = "failed_llm_transport"
    retryable = True


class LlmConnectTimeout(LlmConnectError):
    """Our own time budget for the call ran out."""

    failure_class = "failed_llm_timeout"
    retryable = True


class LlmConnectProviderError(LlmConnectError):
    """llm-connect or its upstream model API failed (5xx, or a provider/timeout/API error)."""

    failure_class = "failed_llm_provider"
    retryable = True


class LlmConnectConfigurationError(LlmConnectError):
    """We asked wrongly (unknown profile, missing provider secret, invalid RunConfig).

    Never retryable, whatever the body says: the same request fails the same way until
    someone changes the configuration.
    """

    failure_class = "failed_config"
    retryable = False


class LlmConnectContractError(LlmConnectError):
    """An answer whose body breaks the contract: not UTF-8, not JSON, nested beyond decoding,
    over the call's byte cap, or ``content`` not a string.

    Counted as a provider-side failure, not retried: the same deployment answers the same way.
    """

    failure_class = "failed_llm_provider"
    retryable = False


_ERRORS = ServiceErrors(
    service=LlmConnectApi.SERVICE,
    timeout=LlmConnectTimeout,
    transport=LlmConnectTransportError,
    contract=LlmConnectContractError,
)


class RunConfig(BaseModel):
    """The request body of ``POST /execute``. ``repr`` leaves the prompt out so that logging a
    config never logs a prompt body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str = Field(repr=False)
    model_name: str
    temperature: float
    max_tokens: int
    max_depth: int
    model_params: dict[str, Any] = Field(default_factory=dict)
    system_prompt: str | None = Field(default=None, repr=False)


class LlmResponse(BaseModel):
    """llm-connect's ``LLMResponse``; only ``content`` is guaranteed by the contract."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    content: StrictStr
    model: str | None = None
    provider: str | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    metadata: dict[str, Any] | None = None


class LlmConnectClient(ServiceClient):
    """One attempt per call; every call bounded end to end by ``timeout_seconds``.

    ``transport`` lets tests and the local stack plug in their own httpx transport.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        # Connecting never needs the model's budget: a refused or unroutable address
        # should fail fast, not after five minutes.
        super().__init__(
            base_url,
            errors=_ERRORS,
            budget_seconds=timeout_seconds,
            connect_seconds=10.0,
            max_body_bytes=max_body_bytes,
            transport=transport,
        )

    async def health(self) -> None:
        """Returns when llm-connect answers 200 ``{"status": "ok"}``; raises otherwise."""
        path = LlmConnectApi.HEALTH
        response = await self.send("GET", path)
        if response.status_code != 200:
            raise _error_from_response(response, "GET", path, sent=())
        try:
            body = json_body(response)
        except ValueError as exc:
            raise _contract_error("GET", path, str(exc)) from None
        if body != {"status": "ok"}:
            raise _contract_error("GET", path, 'body is not {"status": "ok"}')

    async def execute(
        self, config: RunConfig, *, request_id: str, source: str, max_body_bytes: int | None = None
    ) -> LlmResponse:
        """Run ``config`` once. ``request_id`` and ``source`` let llm-connect attribute the
        traffic (the workflow and run id; ``activity-core/<definition id>``).

        ``max_body_bytes`` caps this answer (the caller knows how much its definition can
        use); a larger one is an ``LlmConnectContractError``, read no further than the cap.
        """
        path = LlmConnectApi.EXECUTE
        response = await self.send(
            "POST",
            path,
            max_body_bytes=max_body_bytes,
            json=config.model_dump(mode="json", exclude_none=True),
            headers={LlmConnectApi.REQUEST_ID_HEADER: request_id, LlmConnectApi.SOURCE_HEADER: source},
        )
        if response.status_code != 200:
            raise _error_from_response(response, "POST", path, sent=(config.prompt, config.system_prompt))
        try:
            return LlmResponse.model_validate(json_body(response))
        except ValidationError as exc:
            raise _contract_error("POST", path, describe_validation_error(exc)) from None
        except ValueError as exc:
            raise _contract_error("POST", path, str(exc)) from None


def _contract_error(method: str, path: str, problem: str) -> LlmConnectContractError:
    return LlmConnectContractError(
        f"{LlmConnectApi.SERVICE} {method} {path} answered 200 with a body that breaks the contract: {problem}",
        status_code=200,
    )


def _error_from_response(
    response: ServiceResponse, method: str, path: str, *, sent: Sequence[str | None]
) -> LlmConnectError:
    """Sort a non-200 answer into configuration or provider failure, by llm-connect's
    ``error.type`` when it gave one and by status otherwise. ``sent`` are the prompt texts
    of the request, kept out of the message."""
    status = response.status_code
    error_type, message, body_retryable = _structured_error(response)
    is_configuration = error_type in LlmConnectApi.CONFIGURATION_ERROR_TYPES or (
        error_type not in LlmConnectApi.PROVIDER_ERROR_TYPES
        and status < 500
        and status not in LlmConnectApi.RETRYABLE_CLIENT_STATUSES
    )
    what = f"{LlmConnectApi.SERVICE} {method} {path} answered {status}"
    if error_type:
        what += f" {error_type}"
    detail = _without_echo(message, sent) if message else "(no structured error body)"
    text = f"{what}: {excerpt(detail)}"
    if is_configuration:
        return LlmConnectConfigurationError(text, status_code=status, error_type=error_type)
    return LlmConnectProviderError(text, status_code=status, error_type=error_type, retryable=body_retryable)


def _structured_error(response: ServiceResponse) -> tuple[str | None, str | None, bool | None]:
    """``(type, message, retryable)`` from ``{"error": {...}}``, each None when absent (or when
    the body cannot be decoded at all)."""
    try:
        body = json_body(response)
    except ValueError:
        return None, None, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None, None
    error_type, message, retryable = error.get("type"), error.get("message"), error.get("retryable")
    return (
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) else None,
        retryable if isinstance(retryable, bool) else None,
    )


_ECHO_RUN = 24


def _without_echo(message: str, sent: Sequence[str | None]) -> str:
    """Blank out every run of 24+ characters the message shares with a prompt we sent (raw
    or JSON-escaped).

    llm-connect promises sanitized messages; this is the second line of defence for a
    prompt secret if a deployment ever echoes the request back.
    """
    message = message[:1000]  # bounds the scan; excerpt() cuts to ~300 afterwards
    sources = [form for text in sent if text for form in (text, json.dumps(text), json.dumps(text, ensure_ascii=False))]
    hidden = [False] * len(message)
    for start in range(len(message) - _ECHO_RUN + 1):
        window = message[start : start + _ECHO_RUN]
        if any(window in source for source in sources):
            hidden[start : start + _ECHO_RUN] = [True] * _ECHO_RUN
    kept: list[str] = []
    for char, is_hidden in zip(message, hidden, strict=True):
        if not is_hidden:
            kept.append(char)
        elif not kept or kept[-1] != REDACTED:
            kept.append(REDACTED)
    return "".join(kept)
