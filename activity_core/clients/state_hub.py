"""Async client for State Hub: the planning state the triage ranks, and the evidence a run
writes back (a progress event and a working-memory note).

The bearer token goes out in the ``Authorization`` header and nowhere else: never in a
``repr`` or a message, and blanked out of any response text an error quotes. Each call is
bounded end to end by the client's budget and its answer by ``max_body_bytes``; every
failure fails a run as ``failed_state_hub``::

    StateHubError
    ├── StateHubTransportError   retryable: no HTTP answer at all
    ├── StateHubTimeout          retryable: the call's budget ran out
    ├── StateHubAuthError        not retried: 401/403
    ├── StateHubHTTPError        retryable for 5xx and 429
    └── StateHubContractError    not retried: a body that is undecodable, oversized or off-contract
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from activity_core.clients._http import (
    DEFAULT_MAX_BODY_BYTES,
    ServiceClient,
    ServiceError,
    ServiceErrors,
    ServiceResponse,
    describe_validation_error,
    excerpt,
    json_body,
)


class StateHubApi:
    """Every path and parameter we assume of State Hub (see
    ../shared/contracts/state-hub.md); the emulator serves exactly these."""

    SERVICE = "State Hub"
    HEALTH = "/health"
    WORKSTREAMS = "/api/workstreams"
    TASKS = "/api/tasks"
    PROGRESS = "/api/progress"
    NOTES = "/api/working-memory/notes"
    AUTH_PREFIX = "/api/"  # paths that require the bearer token
    STATUS_PARAM = "status"  # comma-separated list
    EVENT_TYPE_PARAM = "event_type"
    SINCE_PARAM = "since"  # ISO 8601
    PREFIX_PARAM = "prefix"


class StateHubError(ServiceError):
    """Base of State Hub failures; all of them fail a run as ``failed_state_hub``."""

    failure_class = "failed_state_hub"


class StateHubTransportError(StateHubError):
    """No HTTP answer at all: refused, reset, DNS, or the connection dropped mid-call."""

    retryable = True


class StateHubTimeout(StateHubError):
    retryable = True


class StateHubAuthError(StateHubError):
    """401/403: the token is missing, wrong or lacks rights; retrying cannot fix that."""

    retryable = False


class StateHubHTTPError(StateHubError):
    """Any other non-2xx; retryable for 5xx and 429."""


class StateHubContractError(StateHubError):
    """A 2xx whose body breaks the contract."""

    retryable = False


_ERRORS = ServiceErrors(
    service=StateHubApi.SERVICE,
    timeout=StateHubTimeout,
    transport=StateHubTransportError,
    contract=StateHubContractError,
)


class _Record(BaseModel):
    """What State Hub returns: unknown fields ignored so that the hub can grow."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Workstream(_Record):
    id: str
    slug: str
    title: str
    status: str
    repo: str | None = None
    domain: str | None = None
    planning_priority: str | None = None
    planning_order: int | None = None
    updated: str | None = None


class Task(_Record):
    id: str
    key: str
    title: str
    status: str
    workstream_id: str | None = None
    priority: str | None = None
    updated: str | None = None


class ProgressEvent(BaseModel):
    """A progress event to post. ``idempotency_key`` is unique per run so that a repeated
    post (a retry after a lost response) cannot create a second event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: str
    summary: str
    idempotency_key: str
    source: str = "activity-core"
    workstream_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class ProgressEventRecord(_Record):
    id: str
    event_type: str
    created_at: datetime
    summary: str = ""
    source: str | None = None
    workstream_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None


class Note(BaseModel):
    """A working-memory note; writing the same ``key`` again replaces it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    title: str
    body_markdown: str
    tags: list[str] = Field(default_factory=list)


class NoteRecord(_Record):
    id: str
    key: str
    updated_at: datetime


class _Created(_Record):
    id: str


_T = TypeVar("_T")


class StateHubClient(ServiceClient):
    """One attempt per call; every call bounded end to end by ``timeout_seconds``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout_seconds: float,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        super().__init__(
            base_url,
            errors=_ERRORS,
            budget_seconds=timeout_seconds,
            max_body_bytes=max_body_bytes,
            token=token,
            transport=transport,
        )

    async def health(self) -> None:
        """Returns when State Hub answers 200 ``{"status": "ok"}``; raises otherwise."""
        body = await self._call("GET", StateHubApi.HEALTH)
        if body != {"status": "ok"}:
            raise self._contract_error("GET", StateHubApi.HEALTH, 'body is not {"status": "ok"}')

    async def list_workstreams(self, statuses: Sequence[str]) -> list[Workstream]:
        params = {StateHubApi.STATUS_PARAM: _comma_list(statuses)}
        return await self._call_as(list[Workstream], "GET", StateHubApi.WORKSTREAMS, params=params)

    async def list_tasks(self, statuses: Sequence[str]) -> list[Task]:
        params = {StateHubApi.STATUS_PARAM: _comma_list(statuses)}
        return await self._call_as(list[Task], "GET", StateHubApi.TASKS, params=params)

    async def post_progress(self, event: ProgressEvent) -> str:
        """Post ``event``; returns its id (the first event's id if the key was seen before)."""
        created = await self._call_as(_Created, "POST", StateHubApi.PROGRESS, json=event.model_dump(mode="json"))
        return created.id

    async def write_note(self, note: Note) -> str:
        """Create or replace the note under ``note.key``; returns its id."""
        created = await self._call_as(_Created, "POST", StateHubApi.NOTES, json=note.model_dump(mode="json"))
        return created.id

    async def list_progress(self, event_type: str, since: datetime | None = None) -> list[ProgressEventRecord]:
        params = {StateHubApi.EVENT_TYPE_PARAM: event_type}
        if since is not None:
            params[StateHubApi.SINCE_PARAM] = since.isoformat()
        return await self._call_as(list[ProgressEventRecord], "GET", StateHubApi.PROGRESS, params=params)

    async def list_notes(self, prefix: str) -> list[NoteRecord]:
        params = {StateHubApi.PREFIX_PARAM: prefix}
        return await self._call_as(list[NoteRecord], "GET", StateHubApi.NOTES, params=params)

    async def _call_as(self, shape: type[_T], method: str, path: str, **request: Any) -> _T:
        body = await self._call(method, path, **request)
        try:
            return TypeAdapter(shape).validate_python(body)
        except ValidationError as exc:
            raise self._contract_error(method, path, describe_validation_error(exc)) from None

    async def _call(self, method: str, path: str, **request: Any) -> Any:
        """Send once and return the decoded JSON body of a 2xx; raise the fitting error otherwise."""
        response = await self.send(method, path, **request)
        if not response.is_success:
            raise self._status_error(response, method, path)
        try:
            return json_body(response)
        except ValueError as exc:
            raise self._contract_error(method, path, str(exc)) from None

    def _status_error(self, response: ServiceResponse, method: str, path: str) -> StateHubError:
        status = response.status_code
        message = (
            f"{StateHubApi.SERVICE} {method} {path} answered {status}: {excerpt(response.text, secrets=(self._token,))}"
        )
        if status in (401, 403):
            return StateHubAuthError(message, status_code=status)
        return StateHubHTTPError(message, status_code=status, retryable=status >= 500 or status == 429)

    def _contract_error(self, method: str, path: str, problem: str) -> StateHubContractError:
        return StateHubContractError(
            f"{StateHubApi.SERVICE} {method} {path} answered with a body that breaks the contract: {problem}"
        )


def _comma_list(statuses: Sequence[str]) -> str:
    # A bare string is a Sequence[str] too; joining it would send "a,c,t,i,v,e".
    if isinstance(statuses, str):
        raise TypeError("statuses must be a sequence of status names, not a single string")
    return ",".join(statuses)
