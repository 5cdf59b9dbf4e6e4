"""A contract-faithful issue-core on loopback, for the local stack and the tests.

It serves exactly the paths of ``activity_core.clients.issue_core.IssueCoreApi`` (so the two
stay in step). Routes, by the names faults are queued on: ``health``, ``tasks_create``
(POST /api/tasks), ``tasks_find`` (GET /api/tasks), ``comments_create`` and ``comments_find``
(/api/tasks/{id}/comments). Service-specific faults on the two writes: ``apply_then_500``
(store, then answer 500, as when a response is lost on the way back); on ``tasks_create``
also ``validation_error`` (422 without storing).

Tasks and comments persist in ``issue-core-emulator.json`` in the data directory, so the
local stack's tasks survive a restart. A repeated ``Idempotency-Key`` answers 200 with what
was first created under it, as the contract assumes; ``honour_idempotency_key=False`` (or
``POST /_emulator/idempotency {"honour": false}``) turns that off, so tests can prove that
activity-core does not rely on it. ``POST /_emulator/tasks/<id or key>/status
{"status": "closed"}`` moves a task through its lifecycle, as a person closing it would.

Subprocess: ``python -m activity_core.devstack.issue_core_emulator --port 0 --data-dir DIR
[--token-file F]``.
"""

from __future__ import annotations

import copy
import hmac
import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from activity_core.clients.issue_core import IssueCoreApi, TaskStatus
from activity_core.devstack.emulator_http import (
    CONTROL_PREFIX,
    EmulatorApp,
    EmulatorHandle,
    RecordedRequest,
    Reply,
    Route,
    argument_parser,
    field_problems,
    serve_until_terminated,
)
from activity_core.devstack.state_hub_emulator import seed_planning_state

STATE_FILE = "issue-core-emulator.json"
PUBLIC_URL = "https://issue-core.local"
KEY_PREFIX = "ISSUE"
MAX_TITLE_CHARS = 255
MAX_BODY_CHARS = 65_536
STATUSES: tuple[str, ...] = get_args(TaskStatus)

WRITE_FAULTS = frozenset({"apply_then_500"})
CREATE_FAULTS = WRITE_FAULTS | {"validation_error"}

_COMMENTS_PATH = re.compile(
    "^" + re.escape(IssueCoreApi.TASK_COMMENTS).replace(r"\{task_id\}", "(?P<task_id>[^/]+)") + "$"
)
_TASK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "body_markdown": str,
    "repo": str,
    "labels": list,
    "source": str,
    "external_key": str,
    "links": dict,
}
_COMMENT_FIELDS: dict[str, type | tuple[type, ...]] = {"body_markdown": str, "external_key": str}


def seeded_repos() -> frozenset[str]:
    """The repos the State Hub emulator's workstreams name: the ones tasks can be filed in."""
    workstreams, _ = seed_planning_state()
    return frozenset(ws["repo"] for ws in workstreams if ws.get("repo"))


class IssueCoreApp(EmulatorApp):
    def __init__(
        self,
        *,
        token: str | None,
        data_dir: Path | None,
        repos: Iterable[str] | None = None,
        honour_idempotency_key: bool = True,
    ):
        self.token = token
        self.repos = frozenset(repos) if repos is not None else seeded_repos()
        self.default_honour = honour_idempotency_key
        self.honour_idempotency_key = honour_idempotency_key
        self._file = data_dir / STATE_FILE if data_dir is not None else None
        api = IssueCoreApi
        self.routes = {
            "health": Route("GET", api.HEALTH, lambda request, fault: Reply(200, {"status": "ok"})),
            "tasks_create": Route("POST", api.TASKS, self._create_task, CREATE_FAULTS),
            "tasks_find": Route("GET", api.TASKS, self._find_tasks),
            "comments_create": Route("POST", api.TASK_COMMENTS, self._create_comment, WRITE_FAULTS),
            "comments_find": Route("GET", api.TASK_COMMENTS, self._find_comments),
        }
        self.tasks: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.last_number = 0
        self._load()

    def __repr__(self) -> str:
        return f"IssueCoreApp(auth={'on' if self.token else 'off'}, tasks={len(self.tasks)})"

    def route_for(self, method: str, path: str) -> str | None:
        if _COMMENTS_PATH.match(path):
            path = IssueCoreApi.TASK_COMMENTS
        return super().route_for(method, path)

    def reset(self) -> None:
        self.tasks, self.comments, self.last_number = [], [], 0
        self.honour_idempotency_key = self.default_honour
        self._save()

    def handle(self, route: str, request: RecordedRequest, fault: str | None) -> Reply:
        if self.token and request.path.startswith(IssueCoreApi.AUTH_PREFIX):
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {self.token}".encode()):
                return _error(401, "unauthorized", "missing or invalid bearer token")
        return super().handle(route, request, fault)

    # -- control ------------------------------------------------------------------------

    def control(self, request: RecordedRequest) -> Reply | None:
        """``POST /_emulator/tasks/<ref>/status`` and ``POST /_emulator/idempotency``."""
        action = request.path.removeprefix(CONTROL_PREFIX)
        if request.method != "POST":
            return None
        try:
            body = request.json()
        except ValueError:
            return Reply(400, {"detail": "body must be JSON"})
        if action == "idempotency" and isinstance(body, dict) and isinstance(body.get("honour"), bool):
            self.honour_idempotency_key = body["honour"]
            return Reply(200, {"honour": self.honour_idempotency_key})
        parts = action.split("/")
        if len(parts) == 3 and parts[0] == "tasks" and parts[2] == "status" and isinstance(body, dict):
            try:
                task = self.set_status(parts[1], body.get("status"))
            except (KeyError, ValueError) as exc:
                return Reply(404 if isinstance(exc, KeyError) else 400, {"detail": str(exc.args[0])})
            return Reply(200, _found(task))
        return None

    def set_status(self, ref: str, status: object) -> dict[str, Any]:
        """Move the task with id or key ``ref`` to ``status``; KeyError / ValueError name the problem."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        task = next((t for t in self.tasks if ref in (t["id"], t["key"])), None)
        if task is None:
            raise KeyError(f"no task with id or key {ref!r}")
        task["status"] = status
        task["updated_at"] = _now()
        self._save()
        return task

    # -- routes -------------------------------------------------------------------------

    def _create_task(self, request: RecordedRequest, fault: str | None) -> Reply:
        body, problems = _json_object(request, _TASK_FIELDS)
        if not problems:
            problems = _task_problems(body, request)
        if problems:
            return _error(422, "validation_error", "; ".join(problems))
        if fault == "validation_error":
            return _error(422, "validation_error", "emulated: the task was refused")
        if body["repo"] not in self.repos:
            return _error(404, "not_found", f"unknown repo {body['repo']!r}")
        repeated = self._by_idempotency_key(self.tasks, request)
        if repeated is not None:
            return Reply(200, _created(repeated))
        self.last_number += 1
        now = _now()
        key = f"{KEY_PREFIX}-{self.last_number}"
        task = {
            "id": str(uuid.uuid4()),
            "key": key,
            "url": f"{PUBLIC_URL}/tasks/{key}",
            "status": "open",
            "created_at": now,
            "updated_at": now,
            "idempotency_key": request.headers.get(IssueCoreApi.IDEMPOTENCY_HEADER.lower()),
            **{name: body[name] for name in _TASK_FIELDS},
        }
        self.tasks.append(task)
        self._save()
        return _lost_response() if fault == "apply_then_500" else Reply(201, _created(task))

    def _find_tasks(self, request: RecordedRequest, fault: str | None) -> Reply:
        wanted = request.query.get(IssueCoreApi.EXTERNAL_KEY_PARAM)
        return Reply(200, [_found(t) for t in self.tasks if wanted is None or t["external_key"] == wanted])

    def _create_comment(self, request: RecordedRequest, fault: str | None) -> Reply:
        task = self._task_of(request)
        if task is None:
            return _error(404, "not_found", "no such task")
        body, problems = _json_object(request, _COMMENT_FIELDS)
        problems += [f"{name} must not be empty" for name in _COMMENT_FIELDS if body.get(name) == ""]
        if problems:
            return _error(422, "validation_error", "; ".join(problems))
        repeated = self._by_idempotency_key([c for c in self.comments if c["task_id"] == task["id"]], request)
        if repeated is not None:
            return Reply(200, {"id": repeated["id"]})
        comment = {
            "id": str(uuid.uuid4()),
            "task_id": task["id"],
            "external_key": body["external_key"],
            "body_markdown": body["body_markdown"],
            "created_at": _now(),
            "idempotency_key": request.headers.get(IssueCoreApi.IDEMPOTENCY_HEADER.lower()),
        }
        self.comments.append(comment)
        self._save()
        return _lost_response() if fault == "apply_then_500" else Reply(201, {"id": comment["id"]})

    def _find_comments(self, request: RecordedRequest, fault: str | None) -> Reply:
        task = self._task_of(request)
        if task is None:
            return _error(404, "not_found", "no such task")
        wanted = request.query.get(IssueCoreApi.EXTERNAL_KEY_PARAM)
        return Reply(
            200,
            [
                {"id": c["id"], "external_key": c["external_key"], "created_at": c["created_at"]}
                for c in self.comments
                if c["task_id"] == task["id"] and (wanted is None or c["external_key"] == wanted)
            ],
        )

    # -- helpers ------------------------------------------------------------------------

    def _task_of(self, request: RecordedRequest) -> dict[str, Any] | None:
        match = _COMMENTS_PATH.match(request.path)
        task_id = match["task_id"] if match else None
        return next((t for t in self.tasks if t["id"] == task_id), None)

    def _by_idempotency_key(self, records: list[dict[str, Any]], request: RecordedRequest) -> dict[str, Any] | None:
        key = request.headers.get(IssueCoreApi.IDEMPOTENCY_HEADER.lower())
        if not (self.honour_idempotency_key and key):
            return None
        return next((r for r in records if r["idempotency_key"] == key), None)

    def _load(self) -> None:
        if self._file is None or not self._file.is_file():
            return
        state = json.loads(self._file.read_text(encoding="utf-8"))
        self.tasks, self.comments, self.last_number = state["tasks"], state["comments"], state["last_number"]

    def _save(self) -> None:
        """Written whole and renamed into place: a stack killed mid-write keeps the previous file."""
        if self._file is None:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        state = {"last_number": self.last_number, "tasks": self.tasks, "comments": self.comments}
        partial = self._file.with_suffix(".json.partial")
        partial.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(partial, self._file)


def _json_object(
    request: RecordedRequest, fields: dict[str, type | tuple[type, ...]]
) -> tuple[dict[str, Any], list[str]]:
    """The request's JSON object and what is wrong with it: every field required, no other field."""
    try:
        body = request.json()
    except ValueError:
        return {}, ["body must be JSON"]
    problems = field_problems(body, fields)
    if isinstance(body, dict):
        problems += [f"unknown field {name}" for name in sorted(set(body) - set(fields))]
        return body, problems
    return {}, problems


def _task_problems(body: dict[str, Any], request: RecordedRequest) -> list[str]:
    problems = [f"{name} must not be empty" for name in ("title", "repo", "source", "external_key") if not body[name]]
    if len(body["title"]) > MAX_TITLE_CHARS:
        problems.append(f"title is longer than {MAX_TITLE_CHARS} characters")
    if len(body["body_markdown"]) > MAX_BODY_CHARS:
        problems.append(f"body_markdown is longer than {MAX_BODY_CHARS} characters")
    if not all(isinstance(label, str) and label for label in body["labels"]):
        problems.append("labels must be non-empty strings")
    problems += field_problems(body["links"], {"state_hub_id": str, "run": str})
    sent_key = request.headers.get(IssueCoreApi.IDEMPOTENCY_HEADER.lower())
    if sent_key is not None and sent_key != body["external_key"]:
        problems.append(f"{IssueCoreApi.IDEMPOTENCY_HEADER} and external_key differ")
    return problems


def _created(task: dict[str, Any]) -> dict[str, Any]:
    return {"id": task["id"], "key": task["key"], "url": task["url"], "created_at": task["created_at"]}


def _found(task: dict[str, Any]) -> dict[str, Any]:
    return {name: task[name] for name in ("id", "key", "url", "status", "external_key")}


def _error(status: int, error_type: str, message: str) -> Reply:
    return Reply(status, {"error": {"type": error_type, "message": message}})


def _lost_response() -> Reply:
    return Reply(500, "emulated 500: the write was applied, then the response was lost")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class IssueCoreEmulator(EmulatorHandle[IssueCoreApp]):
    """A started issue-core emulator; the accessors return copies, safe to keep."""

    @property
    def token(self) -> str | None:
        with self._app() as app:
            return app.token

    def tasks(self) -> list[dict[str, Any]]:
        with self._app() as app:
            return copy.deepcopy(app.tasks)

    def comments(self) -> list[dict[str, Any]]:
        with self._app() as app:
            return copy.deepcopy(app.comments)

    def set_status(self, ref: str, status: str) -> None:
        with self._app() as app:
            app.set_status(ref, status)

    def close_task(self, ref: str) -> None:
        """Close the task with id or key ``ref``, as a person finishing it would."""
        self.set_status(ref, IssueCoreApi.CLOSED_STATUS)

    def honour_idempotency_key(self, honour: bool) -> None:
        """Whether a repeated ``Idempotency-Key`` answers the first result (until ``reset``)."""
        with self._app() as app:
            app.honour_idempotency_key = honour


def start_issue_core_emulator(
    *,
    token: str | None = None,
    data_dir: Path | None = None,
    repos: Iterable[str] | None = None,
    honour_idempotency_key: bool = True,
    host: str = "127.0.0.1",
    port: int = 0,
) -> IssueCoreEmulator:
    """Start an issue-core emulator; with ``token`` every ``/api/`` call must bear it, with
    ``data_dir`` its tasks persist there, ``repos`` default to the State Hub seed's."""
    app = IssueCoreApp(token=token, data_dir=data_dir, repos=repos, honour_idempotency_key=honour_idempotency_key)
    return IssueCoreEmulator(app, host=host, port=port)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("An issue-core emulator on loopback (see docs/emulators.md).")
    parser.add_argument(
        "--data-dir", type=Path, help="keep tasks in DIR/issue-core-emulator.json (default: memory only)"
    )
    parser.add_argument(
        "--token-file",
        help="file holding the bearer token every /api/ call must carry (a file, not an argument, "
        "so that it stays out of the process list); default: no auth",
    )
    args = parser.parse_args(argv)
    token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as handle:
            token = handle.read().strip()
    serve_until_terminated(
        start_issue_core_emulator(token=token, data_dir=args.data_dir, host=args.host, port=args.port)
    )


if __name__ == "__main__":
    main()
