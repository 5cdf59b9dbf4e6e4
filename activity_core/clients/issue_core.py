"""Async client for issue-core, the task tracker the task sinks file into.

issue-core's API is not published: every path, header and field we assume of it is in this
module (``IssueCoreApi`` and the models below; see ../shared/contracts/issue-core.md), and
the emulator serves exactly these, so aligning with the real service is a change here.

What matters about a failure is whether the request may have changed anything, because a
task must never be filed twice::

    IssueCoreError                    failure_class "failed_issue_core"
    ├── IssueCoreUnavailable          retryable: nothing was applied (no connection, 429,
    │                                 or a read that failed); just try again
    ├── IssueCoreAmbiguous            retryable after reconciling: a write that may have been
    │                                 applied (a timeout, a lost connection or a 5xx after the
    │                                 body was sent, a 2xx we cannot read); look the key up
    │                                 before any retry
    └── IssueCoreFinal                not retryable: issue-core refused, and will again
        ├── IssueCoreAuthError        401/403: the token is missing, wrong or lacks rights
        ├── IssueCoreRejected         404 (unknown repo), 422 (validation), any other 4xx
        └── IssueCoreContractError    a read whose 2xx body breaks the contract

One attempt per call (the emission engine and Temporal own retries). The bearer token goes
out in the ``Authorization`` header and nowhere else: never in a ``repr``, a message or a
prepared request, and blanked out of any response text an error quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from activity_core.clients._http import (
    ServiceClient,
    ServiceError,
    ServiceErrors,
    ServiceResponse,
    describe_validation_error,
    excerpt,
    json_body,
)

TaskStatus = Literal["open", "in_progress", "blocked", "closed"]


class IssueCoreApi:
    """Every path, parameter and header we assume of issue-core; the emulator serves exactly these."""

    SERVICE = "issue-core"
    HEALTH = "/health"
    TASKS = "/api/tasks"
    TASK_COMMENTS = "/api/tasks/{task_id}/comments"
    AUTH_PREFIX = "/api/"  # paths that require the bearer token
    EXTERNAL_KEY_PARAM = "external_key"
    IDEMPOTENCY_HEADER = "Idempotency-Key"
    OPEN_STATUSES: tuple[TaskStatus, ...] = ("open", "in_progress", "blocked")
    CLOSED_STATUS: TaskStatus = "closed"
    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    @classmethod
    def comments_path(cls, task_id: str) -> str:
        return cls.TASK_COMMENTS.format(task_id=quote(task_id, safe=""))


# --- errors ------------------------------------------------------------------------------


class IssueCoreError(ServiceError):
    failure_class = "failed_issue_core"
    ambiguous = False
    """The request may have been applied: reconcile by lookup before trying again."""


class IssueCoreUnavailable(IssueCoreError):
    retryable = True


class IssueCoreAmbiguous(IssueCoreError):
    retryable = True
    ambiguous = True


class IssueCoreFinal(IssueCoreError):
    retryable = False


class IssueCoreAuthError(IssueCoreFinal):
    pass


class IssueCoreRejected(IssueCoreFinal):
    pass


class IssueCoreContractError(IssueCoreFinal):
    pass


class _NoAnswer(IssueCoreError):
    """What ``send_once`` raises here; ``_send`` sorts it by what was sent before it happened."""


# Failures of the connection itself: the request never left.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# --- what we send ------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskLinks(_Body):
    state_hub_id: str = Field(min_length=1, description="The State Hub workstream or task the task is about.")
    run: str = Field(min_length=1, description="<workflow id>/<run id> of the run that proposed it.")


class NewTask(_Body):
    """The body of ``POST /api/tasks``: exactly the contract's fields, nothing else (no
    ``review_required``: issue-core has no review queue)."""

    title: str = Field(min_length=1)
    body_markdown: str
    repo: str = Field(min_length=1)
    labels: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)
    external_key: str = Field(min_length=1, description="Our business key; also sent as Idempotency-Key.")
    links: TaskLinks


class NewComment(_Body):
    body_markdown: str = Field(min_length=1)
    external_key: str = Field(min_length=1)


@dataclass(frozen=True)
class PreparedRequest:
    """A write exactly as it goes on the wire, minus the ``Authorization`` header: what a
    dry run logs for review and what the client then sends."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "headers": dict(self.headers), "body": self.body}


def create_task_request(task: NewTask) -> PreparedRequest:
    return PreparedRequest(
        "POST",
        IssueCoreApi.TASKS,
        {IssueCoreApi.IDEMPOTENCY_HEADER: task.external_key},
        task.model_dump(mode="json"),
    )


def add_comment_request(task_id: str, comment: NewComment) -> PreparedRequest:
    return PreparedRequest(
        "POST",
        IssueCoreApi.comments_path(task_id),
        {IssueCoreApi.IDEMPOTENCY_HEADER: comment.external_key},
        comment.model_dump(mode="json"),
    )


# --- what we read ------------------------------------------------------------------------


class _Record(BaseModel):
    """What issue-core returns: unknown fields ignored so that the service can grow."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class CreatedTask(_Record):
    id: str = Field(min_length=1)
    key: str = Field(min_length=1)
    url: str = Field(min_length=1)
    created_at: datetime


class TaskRecord(_Record):
    id: str = Field(min_length=1)
    key: str = Field(min_length=1)
    url: str = Field(min_length=1)
    status: TaskStatus
    external_key: str

    @property
    def is_open(self) -> bool:
        return self.status != IssueCoreApi.CLOSED_STATUS


class CommentRecord(_Record):
    id: str = Field(min_length=1)
    external_key: str
    created_at: datetime


class CreatedComment(_Record):
    id: str = Field(min_length=1)


class _ErrorDetail(_Record):
    type: str = "error"
    message: str = ""


class _ErrorBody(_Record):
    error: _ErrorDetail


_T = TypeVar("_T")
_ERRORS = ServiceErrors(
    service=IssueCoreApi.SERVICE, timeout=_NoAnswer, transport=_NoAnswer, contract=IssueCoreContractError
)


class IssueCoreClient(ServiceClient):
    """One attempt per call; every call bounded by ``timeout_seconds``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        super().__init__(
            base_url,
            errors=_ERRORS,
            budget_seconds=timeout_seconds,
            token=token,
            transport=transport,
        )

    async def health(self) -> None:
        """Returns when issue-core answers 200 ``{"status": "ok"}``; raises otherwise."""
        body = await self._call("GET", IssueCoreApi.HEALTH)
        if body != {"status": "ok"}:
            raise IssueCoreContractError(self._broken("GET", IssueCoreApi.HEALTH, 'body is not {"status": "ok"}'))

    async def find_tasks(self, external_key: str) -> list[TaskRecord]:
        """The tasks filed under our key (empty when none): how an ambiguous create is reconciled
        and how an earlier episode's task is found open or closed."""
        params = {IssueCoreApi.EXTERNAL_KEY_PARAM: external_key}
        return await self._call_as(list[TaskRecord], "GET", IssueCoreApi.TASKS, params=params)

    async def create_task(self, task: NewTask) -> CreatedTask:
        return await self._write_as(CreatedTask, create_task_request(task))

    async def find_comments(self, task_id: str, external_key: str) -> list[CommentRecord]:
        params = {IssueCoreApi.EXTERNAL_KEY_PARAM: external_key}
        return await self._call_as(list[CommentRecord], "GET", IssueCoreApi.comments_path(task_id), params=params)

    async def add_comment(self, task_id: str, comment: NewComment) -> CreatedComment:
        return await self._write_as(CreatedComment, add_comment_request(task_id, comment))

    async def _write_as(self, shape: type[_T], request: PreparedRequest) -> _T:
        return await self._call_as(shape, request.method, request.path, json=request.body, headers=request.headers)

    async def _call_as(self, shape: type[_T], method: str, path: str, **request: Any) -> _T:
        body = await self._call(method, path, **request)
        try:
            return TypeAdapter(shape).validate_python(body)
        except ValidationError as exc:
            raise self._unreadable(method, path, describe_validation_error(exc)) from None

    async def _call(self, method: str, path: str, **request: Any) -> Any:
        """Send once and return the decoded JSON body of a 2xx; raise the fitting error otherwise."""
        try:
            response = await self.send(method, path, **request)
        except _NoAnswer as exc:
            # send() raises ``from None``: the httpx failure it replaced is still the context.
            unsent = isinstance(exc.__context__, _NOT_SENT) or method not in IssueCoreApi.WRITE_METHODS
            raise (IssueCoreUnavailable if unsent else IssueCoreAmbiguous)(str(exc)) from None
        if not response.is_success:
            raise self._status_error(response, method, path)
        try:
            return json_body(response)
        except ValueError as exc:
            raise self._unreadable(method, path, str(exc)) from None

    def _status_error(self, response: ServiceResponse, method: str, path: str) -> IssueCoreError:
        status = response.status_code
        message = f"{IssueCoreApi.SERVICE} {method} {path} answered {status}: {self._said(response)}"
        if status in (401, 403):
            return IssueCoreAuthError(message, status_code=status)
        if status == 429 or (status >= 500 and method not in IssueCoreApi.WRITE_METHODS):
            return IssueCoreUnavailable(message, status_code=status)
        if status >= 500:
            return IssueCoreAmbiguous(message, status_code=status)
        return IssueCoreRejected(message, status_code=status)

    def _said(self, response: ServiceResponse) -> str:
        """The service's own error message when it gave one in the contract's shape, else its text."""
        try:
            detail = _ErrorBody.model_validate(json_body(response)).error
            text = f"{detail.type}: {detail.message}"
        except ValueError:  # not JSON, or not the error shape (pydantic's error is a ValueError)
            text = response.text
        return excerpt(text, secrets=(self._token,))

    def _unreadable(self, method: str, path: str, problem: str) -> IssueCoreError:
        # A write that answered 2xx was applied even if we cannot read what it made.
        error = IssueCoreAmbiguous if method in IssueCoreApi.WRITE_METHODS else IssueCoreContractError
        return error(self._broken(method, path, problem))

    @staticmethod
    def _broken(method: str, path: str, problem: str) -> str:
        return f"{IssueCoreApi.SERVICE} {method} {path} answered with a body that breaks the contract: {problem}"
