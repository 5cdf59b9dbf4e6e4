"""A contract-faithful State Hub on loopback, for the local stack and the tests.

It serves exactly the paths of ``activity_core.clients.state_hub.StateHubApi`` (so the two
stay in step), seeded with a deterministic planning state of about 30 workstreams and 100
tasks. Routes, by the names faults are queued on: ``health``, ``workstreams``, ``tasks``,
``progress`` (POST), ``progress_list`` (GET), ``notes`` (POST), ``notes_list`` (GET).
Service-specific fault: ``apply_then_500`` on the two writes (store, then answer 500, as
when a response is lost on the way back). Extra control endpoints delete a progress event
or a note, to simulate evidence that went missing.

With a ``state_file`` the progress events and notes outlive the process: they are loaded at
start and written (atomically: a temporary file, then a rename) after every change, so a local
stack stopped and started again keeps the evidence its runs left, as PostgreSQL and Temporal
keep theirs. The planning state is seeded, the same every time.

Subprocess: ``python -m activity_core.devstack.state_hub_emulator --port 0 [--token-file F] [--state-file F]``.
"""

from __future__ import annotations

import copy
import hmac
import json
import os
import random
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from activity_core.clients.state_hub import StateHubApi
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

NAMESPACE = uuid.UUID("6f1c2a52-3d4e-5b7a-9c8d-0e1f2a3b4c5d")
SEED = 20260626

WRITE_FAULTS = frozenset({"apply_then_500"})

# (workplan, slug, title, repo, status, planning_priority), in planning order
_WORKSTREAMS = [
    (
        "ACTIVITY-WP-0016",
        "activity-core-output-robustness",
        "LLM output robustness and the producer trust boundary",
        "activity-core",
        "active",
        "high",
    ),
    (
        "LLM-WP-0006",
        "activity-core-llm-endpoint",
        "Serve activity-core's triage through an llm-connect endpoint",
        "llm-connect",
        "active",
        "high",
    ),
    (
        "ACTIVITY-WP-0006",
        "activity-core-scheduled-triage",
        "Trusted daily scheduled triage runs",
        "activity-core",
        "active",
        "high",
    ),
    ("ACTIVITY-WP-0009", "activity-core-intent-gap-closure", "Intent gap closure", "activity-core", "blocked", "high"),
    (
        "ACTIVITY-WP-0010",
        "activity-core-temporal-worker",
        "Durable Temporal worker for instruction runs",
        "activity-core",
        "active",
        "high",
    ),
    (
        "OPS-WP-0003",
        "ops-warden-inventory-probe",
        "Ops inventory probe as evidence fallback",
        "ops-warden",
        "active",
        "medium",
    ),
    ("HUB-WP-0012", "state-hub-progress-api", "Progress events API hardening", "state-hub", "active", "high"),
    (
        "HUB-WP-0013",
        "state-hub-working-memory",
        "Working-memory notes with upsert by key",
        "state-hub",
        "active",
        "medium",
    ),
    (
        "LLM-WP-0007",
        "llm-connect-runtime-profiles",
        "Named runtime profiles per consumer",
        "llm-connect",
        "active",
        "medium",
    ),
    (
        "LLM-WP-0008",
        "llm-connect-sanitized-errors",
        "Sanitized provider and transport errors",
        "llm-connect",
        "done",
        "medium",
    ),
    (
        "ISSUE-WP-0004",
        "issue-core-task-sink",
        "Live task creation through issue-core",
        "issue-core",
        "blocked",
        "medium",
    ),
    (
        "RAIL-WP-0021",
        "railiance-network-policies",
        "NetworkPolicy baseline per namespace",
        "railiance-cluster",
        "active",
        "medium",
    ),
    (
        "RAIL-WP-0022",
        "railiance-secret-rotation",
        "Provider credential rotation",
        "railiance-cluster",
        "active",
        "high",
    ),
    ("INTER-WP-0002", "inter-hub-ops-backend", "Activate the Inter-Hub ops backend", "inter-hub", "proposed", "medium"),
    (
        "OPS-WP-0004",
        "ops-warden-alert-routing",
        "Alert routing for custodian services",
        "ops-warden",
        "active",
        "medium",
    ),
    (
        "ACTIVITY-WP-0017",
        "activity-core-calibration-review",
        "Daily triage calibration reviews",
        "activity-core",
        "active",
        "medium",
    ),
    ("HUB-WP-0014", "state-hub-scoped-tokens", "Scoped bearer tokens per consumer", "state-hub", "active", "high"),
    (
        "LLM-WP-0009",
        "llm-connect-usage-accounting",
        "Per-consumer LLM usage accounting",
        "llm-connect",
        "proposed",
        "low",
    ),
    ("RAIL-WP-0019", "railiance-k3s-upgrade", "k3s upgrade on coulombcore", "railiance-cluster", "done", "medium"),
    ("OPS-WP-0005", "ops-warden-backup-drills", "Quarterly backup restore drills", "ops-warden", "active", "low"),
    ("ISSUE-WP-0005", "issue-core-duplicate-detection", "Duplicate issue detection", "issue-core", "active", "low"),
    ("INTER-WP-0003", "inter-hub-agent-handoff", "Agent handoff protocol v2", "inter-hub", "active", "medium"),
    ("HUB-WP-0015", "state-hub-decision-log", "Decision log migration into State Hub", "state-hub", "active", "low"),
    (
        "DOCS-WP-0002",
        "custodian-operator-runbooks",
        "Operator runbooks for custodian services",
        "custodian-docs",
        "active",
        "medium",
    ),
    (
        "RAIL-WP-0023",
        "railiance-postgres-backups",
        "PostgreSQL backup policy for run history",
        "railiance-cluster",
        "blocked",
        "medium",
    ),
    ("OPS-WP-0006", "ops-warden-metrics-dashboards", "Service metrics dashboards", "ops-warden", "active", "low"),
    (
        "ACTIVITY-WP-0018",
        "activity-core-prompt-library",
        "Shared prompt template library",
        "activity-core",
        "proposed",
        "low",
    ),
    (
        "HUB-WP-0016",
        "state-hub-note-search",
        "Full-text search over working-memory notes",
        "state-hub",
        "active",
        "low",
    ),
    (
        "LLM-WP-0010",
        "llm-connect-ndjson-hint",
        "Item-framed response_format hint for providers",
        "llm-connect",
        "active",
        "medium",
    ),
    ("INTER-WP-0004", "inter-hub-message-bus", "Agent message bus delivery guarantees", "inter-hub", "active", "low"),
]
_TASK_TITLES = [
    "Write the ADR",
    "Add regression tests",
    "Wire Prometheus metrics",
    "Document the runbook steps",
    "Validate in the cluster",
    "Review the design with the owning team",
    "Implement the client side",
    "Backfill missing evidence",
    "Remove the legacy code path",
    "Add a calibration fixture",
    "Define the error contract",
    "Load-test at the daily volume",
]
_TASK_STATUSES = (["todo"] * 7) + (["wait"] * 2) + (["blocked"] * 2) + (["active"] * 4) + (["done"] * 5)


def seed_planning_state(seed: int = SEED) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The seeded ``(workstreams, tasks)``, identical on every call: ids are uuid5 of the
    slug or key, everything else comes from ``random.Random(seed)``."""
    rng = random.Random(seed)
    workstreams: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for order, (workplan, slug, title, repo, status, priority) in enumerate(_WORKSTREAMS, start=1):
        workstream_id = str(uuid.uuid5(NAMESPACE, f"workstream:{slug}"))
        workstreams.append(
            {
                "id": workstream_id,
                "slug": slug,
                "title": title,
                "repo": repo,
                "domain": "custodian",
                "status": status,
                "planning_priority": priority,
                "planning_order": order,
                "updated": f"2026-06-{rng.randint(1, 26):02d}",
            }
        )
        for number in range(1, rng.randint(2, 5) + 1):
            key = f"{workplan}-T{number:02d}"
            tasks.append(
                {
                    "id": str(uuid.uuid5(NAMESPACE, f"task:{key}")),
                    "key": key,
                    "workstream_id": workstream_id,
                    "title": f"{rng.choice(_TASK_TITLES)}: {title}",
                    "status": "done" if status == "done" else rng.choice(_TASK_STATUSES),
                    "priority": rng.choice(["high", "medium", "medium", "low"]),
                    "updated": f"2026-06-{rng.randint(1, 26):02d}",
                }
            )
    return workstreams, tasks


class StateFileError(RuntimeError):
    """The state file cannot be read back; it is left as it is, so nothing in it is lost."""


class StateHubApp(EmulatorApp):
    def __init__(self, *, token: str | None, state_file: Path | None = None):
        self.token = token
        self.state_file = state_file
        api = StateHubApi
        self.routes = {
            "health": Route("GET", api.HEALTH, lambda request, fault: Reply(200, {"status": "ok"})),
            "workstreams": Route("GET", api.WORKSTREAMS, self._list_workstreams),
            "tasks": Route("GET", api.TASKS, self._list_tasks),
            "progress": Route("POST", api.PROGRESS, self._post_progress, WRITE_FAULTS),
            "progress_list": Route("GET", api.PROGRESS, self._list_progress),
            "notes": Route("POST", api.NOTES, self._write_note, WRITE_FAULTS),
            "notes_list": Route("GET", api.NOTES, self._list_notes),
        }
        self._seed()
        if state_file is not None and state_file.exists():
            self._load(state_file)

    def __repr__(self) -> str:
        return f"StateHubApp(auth={'on' if self.token else 'off'})"

    def _seed(self) -> None:
        self.workstreams, self.tasks = seed_planning_state()
        self.progress: list[dict[str, Any]] = []
        self.notes: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Back to the seeded planning state with no evidence (also in the state file)."""
        self._seed()
        self._save()

    def _load(self, path: Path) -> None:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            progress, notes = list(state["progress"]), dict(state["notes"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateFileError(
                f"cannot read the State Hub emulator's state from {path} ({exc}); move it aside to start empty"
            ) from None
        self.progress, self.notes = progress, notes

    def _save(self) -> None:
        """Write the evidence to the state file, atomically: a crash leaves the old file or the new."""
        path = self.state_file
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"progress": self.progress, "notes": self.notes}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def handle(self, route: str, request: RecordedRequest, fault: str | None) -> Reply:
        if self.token and request.path.startswith(StateHubApi.AUTH_PREFIX):
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {self.token}".encode()):
                return Reply(401, {"detail": "missing or invalid bearer token"})
        return super().handle(route, request, fault)

    def control(self, request: RecordedRequest) -> Reply | None:
        """``DELETE /_emulator/progress/<id>`` and ``DELETE /_emulator/notes/<key>``."""
        kind, _, name = request.path.removeprefix(CONTROL_PREFIX).partition("/")
        if request.method != "DELETE" or not name or kind not in ("progress", "notes"):
            return None
        found = self.delete_progress_event(name) if kind == "progress" else self.delete_note(name)
        return Reply(204) if found else Reply(404, {"detail": f"no {kind} {name!r}"})

    def delete_progress_event(self, event_id: str) -> bool:
        kept = [event for event in self.progress if event["id"] != event_id]
        found = len(kept) < len(self.progress)
        self.progress = kept
        self._save()
        return found

    def delete_note(self, key: str) -> bool:
        found = self.notes.pop(key, None) is not None
        self._save()
        return found

    def _list_workstreams(self, request: RecordedRequest, fault: str | None) -> Reply:
        return Reply(200, _with_status(self.workstreams, request))

    def _list_tasks(self, request: RecordedRequest, fault: str | None) -> Reply:
        return Reply(200, _with_status(self.tasks, request))

    def _post_progress(self, request: RecordedRequest, fault: str | None) -> Reply:
        body, problems = _json_object(
            request,
            required={"event_type": str, "source": str, "summary": str, "idempotency_key": str},
            optional={"workstream_id": (str, type(None)), "payload": dict},
            non_empty=("event_type", "idempotency_key"),
        )
        if problems:
            return Reply(422, {"detail": problems})
        event = next((e for e in self.progress if e["idempotency_key"] == body["idempotency_key"]), None)
        status = 200  # a repeated key: the first event's id, nothing new stored
        if event is None:
            event = {
                "id": str(uuid.uuid4()),
                "event_type": body["event_type"],
                "source": body["source"],
                "workstream_id": body.get("workstream_id"),
                "summary": body["summary"],
                "payload": body.get("payload", {}),
                "idempotency_key": body["idempotency_key"],
                "created_at": datetime.now(UTC).isoformat(),
            }
            self.progress.append(event)
            self._save()
            status = 201
        return _lost_response() if fault == "apply_then_500" else Reply(status, {"id": event["id"]})

    def _list_progress(self, request: RecordedRequest, fault: str | None) -> Reply:
        events = self.progress
        if event_type := request.query.get(StateHubApi.EVENT_TYPE_PARAM):
            events = [e for e in events if e["event_type"] == event_type]
        if since_text := request.query.get(StateHubApi.SINCE_PARAM):
            try:
                since = _aware(datetime.fromisoformat(since_text))
            except ValueError:
                return Reply(422, {"detail": [f"{StateHubApi.SINCE_PARAM} must be an ISO 8601 timestamp"]})
            events = [e for e in events if datetime.fromisoformat(e["created_at"]) >= since]
        return Reply(200, events)

    def _write_note(self, request: RecordedRequest, fault: str | None) -> Reply:
        body, problems = _json_object(
            request,
            required={"key": str, "title": str, "body_markdown": str},
            optional={"tags": list},
            non_empty=("key",),
        )
        if problems:
            return Reply(422, {"detail": problems})
        previous = self.notes.get(body["key"])
        now = datetime.now(UTC)
        if previous is not None:  # a replacement always moves updated_at forward
            now = max(now, datetime.fromisoformat(previous["updated_at"]) + timedelta(microseconds=1))
        note = {
            "id": previous["id"] if previous else str(uuid.uuid4()),
            "key": body["key"],
            "title": body["title"],
            "body_markdown": body["body_markdown"],
            "tags": body.get("tags", []),
            "created_at": previous["created_at"] if previous else now.isoformat(),
            "updated_at": now.isoformat(),
        }
        self.notes[note["key"]] = note
        self._save()
        return _lost_response() if fault == "apply_then_500" else Reply(200 if previous else 201, {"id": note["id"]})

    def _list_notes(self, request: RecordedRequest, fault: str | None) -> Reply:
        prefix = request.query.get(StateHubApi.PREFIX_PARAM, "")
        return Reply(
            200,
            [
                {"id": n["id"], "key": n["key"], "updated_at": n["updated_at"]}
                for key, n in sorted(self.notes.items())
                if key.startswith(prefix)
            ],
        )


def _with_status(rows: Sequence[dict[str, Any]], request: RecordedRequest) -> list[dict[str, Any]]:
    """Rows whose status is in the comma-separated ``status`` parameter (all when absent or empty)."""
    wanted = {s for s in request.query.get(StateHubApi.STATUS_PARAM, "").split(",") if s}
    return [row for row in rows if not wanted or row["status"] in wanted]


def _json_object(
    request: RecordedRequest,
    *,
    required: dict[str, type | tuple[type, ...]],
    optional: dict[str, type | tuple[type, ...]],
    non_empty: tuple[str, ...],
) -> tuple[dict[str, Any], list[str]]:
    """The request's JSON object and what is wrong with it (an empty list when nothing)."""
    try:
        body = request.json()
    except ValueError:
        return {}, ["body must be JSON"]
    problems = field_problems(body, required, optional)
    if isinstance(body, dict):
        problems += [f"{name} must not be empty" for name in non_empty if body.get(name) == ""]
    return body, problems


def _lost_response() -> Reply:
    return Reply(500, "emulated 500: the write was applied, then the response was lost")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StateHubEmulator(EmulatorHandle[StateHubApp]):
    """A started State Hub emulator; the accessors return copies, safe to keep."""

    @property
    def token(self) -> str | None:
        """The bearer token it requires (None: no auth), for building a client."""
        with self._app() as app:
            return app.token

    def workstreams(self) -> list[dict[str, Any]]:
        with self._app() as app:
            return copy.deepcopy(app.workstreams)

    def tasks(self) -> list[dict[str, Any]]:
        with self._app() as app:
            return copy.deepcopy(app.tasks)

    def progress_events(self) -> list[dict[str, Any]]:
        with self._app() as app:
            return copy.deepcopy(app.progress)

    def notes(self) -> list[dict[str, Any]]:
        with self._app() as app:
            return copy.deepcopy(list(app.notes.values()))

    def delete_progress_event(self, event_id: str) -> bool:
        with self._app() as app:
            return app.delete_progress_event(event_id)

    def delete_note(self, key: str) -> bool:
        with self._app() as app:
            return app.delete_note(key)

    def retitle_workstreams(self, title: str) -> None:
        """Give every workstream ``title``: what a planning state an attacker edited looks like."""
        with self._app() as app:
            for workstream in app.workstreams:
                workstream["title"] = title


def start_state_hub_emulator(
    *, token: str | None = None, host: str = "127.0.0.1", port: int = 0, state_file: Path | None = None
) -> StateHubEmulator:
    """Start a State Hub emulator; with ``token``, every ``/api/`` call must bear it; with
    ``state_file``, its progress events and notes persist there (see the module docstring)."""
    return StateHubEmulator(StateHubApp(token=token, state_file=state_file), host=host, port=port)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("A State Hub emulator on loopback (see docs/emulators.md).")
    parser.add_argument(
        "--token-file",
        help="file holding the bearer token every /api/ call must carry (a file, not an argument, "
        "so that it stays out of the process list); default: no auth",
    )
    parser.add_argument(
        "--state-file", type=Path, help="keep progress events and notes in this JSON file across restarts"
    )
    args = parser.parse_args(argv)
    token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as handle:
            token = handle.read().strip()
    serve_until_terminated(
        start_state_hub_emulator(token=token, host=args.host, port=args.port, state_file=args.state_file)
    )


if __name__ == "__main__":
    main()
