"""``activity-core calibration status|feedback``: the gate reviewers decide on, and their verdicts.

``status`` reads each piece of evidence from its own system (see ``activity_core.calibration.gate``)
and exits 0 only when the gate is met. ``feedback`` stores a reviewer's verdict and posts it
to State Hub exactly once: the row is written first, with the idempotency key the post will
use, and the event id after; a retry after a failed post reuses both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar

from temporalio.client import Client
from temporalio.runtime import Runtime

from activity_core.calibration.feedback import CALIBRATION_EVENT_TYPE, UnknownRun, record_feedback
from activity_core.calibration.gate import (
    DEFAULT_REQUIRED,
    DEFAULT_WINDOW,
    GateReport,
    NoScheduledRuns,
    Piece,
    TickEvidence,
    Unreachable,
    calibration_status,
)
from activity_core.calibration.replay import Replayed, replay_run
from activity_core.clients.state_hub import StateHubClient, StateHubError
from activity_core.commands.common import definitions_directory, require
from activity_core.commands.errors import CommandError, temporal_connect_reason
from activity_core.commands.runs import RunNotFound, bounded_int, open_stores
from activity_core.commands.temporal_runtime import run_on_own_runtime
from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import load_definition
from activity_core.observability.logging import redact
from activity_core.runs.report import clip
from activity_core.settings import Settings
from activity_core.store.feedback import Feedback, FeedbackStore
from activity_core.store.history import HistoryStore
from activity_core.temporal.worker import connect_temporal

T = TypeVar("T")
_TEMPORAL_CONNECT_TIMEOUT = 15.0

EPILOG = """\
examples:
  activity-core calibration status DEFINITION
  activity-core calibration status DEFINITION --at 2026-07-01T09:00:00+02:00 --json
  activity-core calibration feedback 42 --verdict accept --reviewer alice --note "ranking matches"
  activity-core calibration replay DEFINITION --runs 30

Needs DATABASE_URL, TEMPORAL_ADDRESS and STATE_HUB_URL (+ STATE_HUB_TOKEN); feedback needs no
Temporal, replay only DATABASE_URL.
Exit codes: status 0 only when the gate is met, 1 otherwise; feedback 0 once the verdict is in
State Hub, 1 when it could not be posted (run it again); replay 0 when no run would differ,
1 when some would; 2 configuration.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibration",
        help="the scheduled-run calibration gate and reviewers' verdicts",
        description="Can a definition be trusted unattended? Three clean consecutive on-time scheduled runs, "
        "each with the evidence its kind declares (Temporal history, activity_runs row, State Hub progress "
        "event and note), made by the newest versions, with no standing reject; and the figures that say how "
        "much that proves.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="calibration_command", metavar="ACTION", required=True)

    status = actions.add_parser(
        "status",
        help="walk the scheduled runs back and check the gate (exit 0 only when met)",
        description="Walk the definition's schedule from the newest tick back; for each tick check that a "
        "scheduled run exists and that Temporal, the activity_runs row, the State Hub progress event and "
        "the working-memory note all show it clean. Prints the streak, each run's checklist "
        "(✓ passed, ✗ failed, ? could not be checked) and what broke the streak.",
    )
    status.add_argument(
        "definition",
        metavar="DEFINITION",
        help="definition id (a file name in ACTIVITY_CORE_DEFINITIONS_DIR without .yaml)",
    )
    status.add_argument(
        "--required",
        type=bounded_int(1, 365),
        default=DEFAULT_REQUIRED,
        metavar="N",
        help=f"clean consecutive scheduled runs the gate needs (default {DEFAULT_REQUIRED})",
    )
    status.add_argument(
        "--ticks",
        type=bounded_int(1, 366),
        default=DEFAULT_WINDOW,
        metavar="N",
        help=f"expected ticks to list and compute the figures over (default {DEFAULT_WINDOW})",
    )
    status.add_argument("--json", action="store_true", help="the gate report as JSON")
    add_at_argument(status)
    status.set_defaults(handler=handle_status)

    replay = actions.add_parser(
        "replay",
        help="judge the kept answers of the last N runs with today's boundary; list every run that would differ",
        description="A regression check for parser and output-contract changes: each run's kept model answer "
        "(raw_content) and reference allow-list go through today's boundary with the definition's output "
        "contract as it is now, and the result is compared with what the row recorded (framing, truncation, "
        "kept items in order, quarantine reasons, counts). Needs DATABASE_URL only.",
        epilog="example: activity-core calibration replay DEFINITION --runs 30\n"
        "Exit codes: 0 no run would differ, 1 some would (each is listed), 2 configuration.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument("definition", metavar="DEFINITION", help="definition id")
    replay.add_argument(
        "--runs",
        type=bounded_int(1, 1000),
        default=DEFAULT_WINDOW,
        metavar="N",
        help=f"how many of the newest finished runs (default {DEFAULT_WINDOW})",
    )
    replay.add_argument("--json", action="store_true", help="one object per run: id, differs, differences, skipped")
    replay.set_defaults(handler=handle_replay)

    feedback = actions.add_parser(
        "feedback",
        help="record a reviewer's verdict on a run and post it to State Hub (once)",
        description="Store the verdict in calibration_feedback and post it to State Hub as a "
        f"{CALIBRATION_EVENT_TYPE} progress event, exactly once per run and verdict: repeating the command "
        "posts nothing new, and repeating it after a failed post posts the stored verdict.",
    )
    feedback.add_argument("run", metavar="RUN", help="a run's row id or its workflow id")
    feedback.add_argument("--verdict", required=True, choices=["accept", "reject"])
    feedback.add_argument("--note", help="what the reviewer saw")
    feedback.add_argument("--reviewer", help="who reviewed")
    feedback.set_defaults(handler=handle_feedback)


def moment(text: str) -> datetime:
    """An ISO 8601 instant with its offset (``2026-07-01T09:00:00+02:00``, ``...Z``)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("needs a UTC offset, e.g. 2026-07-01T09:00:00Z")
    return value.astimezone(UTC)


def add_at_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at",
        type=moment,
        metavar="TIME",
        help="judge as of this instant (ISO 8601 with offset) instead of now: what the gate said then, "
        "with the evidence as it stands now",
    )


@asynccontextmanager
async def open_state_hub(settings: Settings) -> AsyncIterator[StateHubClient]:
    async with StateHubClient(
        settings.state_hub_url or "",
        token=settings.state_hub_bearer(),
        timeout_seconds=settings.state_hub_timeout_seconds,
    ) as client:
        yield client


async def connect_temporal_or_unreachable(settings: Settings, runtime: Runtime | None = None) -> Client | Unreachable:
    """A client, or why there is none: an unreachable Temporal makes its evidence unknown, not fatal."""
    address = settings.temporal_address or ""
    try:
        connecting = connect_temporal(address, settings.temporal_namespace, runtime)
        return await asyncio.wait_for(connecting, _TEMPORAL_CONNECT_TIMEOUT)
    except (RuntimeError, OSError, TimeoutError) as exc:
        reason = temporal_connect_reason(exc) if str(exc) else type(exc).__name__
        return Unreachable(f"Temporal at {address} is unreachable: {reason}")


# --- status ----------------------------------------------------------------------------


EvidenceWork = Callable[
    [HistoryStore, FeedbackStore, "Client | Unreachable", StateHubClient, DefinitionBase, datetime], Awaitable[T]
]


def over_evidence(
    settings: Settings,
    definition_id: str,
    gather: EvidenceWork[T],
    emit: Callable[[T, DefinitionBase], int],
    *,
    at: datetime | None = None,
    on_error: Callable[[str], None] | None = None,
) -> int:
    """The plumbing `calibration status` and `report` share: settings, the four sources.

    ``gather`` reads what it needs from the stores, Temporal and State Hub; ``emit`` prints or
    writes it and returns the exit code. A definition with no scheduled runs fails (exit 1).
    ``at`` replaces the clock (``--at``). ``on_error`` also gets every failure's message
    (``--json`` prints it as JSON, so a machine reading stdout always gets an object).
    """
    try:
        return _over_evidence(settings, definition_id, gather, emit, at=at)
    except Exception as exc:
        if on_error is not None:  # the CLI's one error path still words the stderr line
            on_error(redact(str(exc)))
        raise


def _over_evidence(
    settings: Settings,
    definition_id: str,
    gather: EvidenceWork[T],
    emit: Callable[[T, DefinitionBase], int],
    *,
    at: datetime | None,
) -> int:
    require(settings, "DATABASE_URL", "TEMPORAL_ADDRESS", "STATE_HUB_URL")
    definition = load_definition(definition_id, definitions_directory(settings.definitions_dir)).definition

    async def work(runtime: Runtime) -> int:
        async with open_stores(settings) as stores, open_state_hub(settings) as state_hub:
            temporal = await connect_temporal_or_unreachable(settings, runtime)
            try:
                result = await gather(
                    stores.history, stores.feedback, temporal, state_hub, definition, at or datetime.now(UTC)
                )
            except NoScheduledRuns as exc:
                raise CommandError(str(exc)) from None
        return emit(result, definition)

    return run_on_own_runtime(work)


def handle_status(args: argparse.Namespace) -> int:
    async def gather(history, feedback, temporal, state_hub, definition, now) -> GateReport:
        return await calibration_status(
            history, feedback, temporal, state_hub, definition, required=args.required, window=args.ticks, now=now
        )

    def emit(report: GateReport, definition: DefinitionBase) -> int:
        print(json.dumps(report.as_dict(), indent=2) if args.json else render_gate(report, definition))
        return 0 if report.met else 1

    def error_json(message: str) -> None:
        print(
            json.dumps(
                {
                    "definition_id": args.definition,
                    "required": args.required,
                    "met": False,
                    "streak": 0,
                    "error": message,
                    "ticks": [],
                    "figures": [],
                },
                indent=2,
            )
        )

    return over_evidence(
        args.settings, args.definition, gather, emit, at=args.at, on_error=error_json if args.json else None
    )


def render_gate(report: GateReport, definition: DefinitionBase) -> str:
    spec = definition.schedule
    verdict = "MET" if report.met else "NOT MET"
    lines = [
        f"calibration gate for {report.definition_id}: {verdict} (streak {report.streak}, {report.required} required)",
        f"walked {len(report.ticks)} tick(s) of {spec.describe()} back from "
        f"{report.ticks[0].name if report.ticks else '-'} (now {report.now.isoformat(timespec='seconds')})",
        f"schedule: {report.schedule.describe()}",
        "",
    ]
    for index, tick in enumerate(report.ticks):
        if report.broken_at is not None and index > report.broken_at:
            changed = f"; versions changed: {tick.version_change}" if tick.version_change else ""
            lines.append(f"{tick.name}  {_run_label(tick)}  (before the break): {clip(tick.account() + changed, 300)}")
            continue
        marker = "  <- breaks the streak" if index == report.broken_at else ""
        state = "pending" if tick.pending else "counts" if tick.counted else ""
        lines.append(f"{tick.name}  {_run_label(tick)}  {state}{marker}".rstrip())
        lines.append(f"  {clip(tick.account(), 300)}")
        if tick.version_change:
            lines.append(f"  versions changed with this run: {clip(tick.version_change, 300)}")
        for piece in Piece:
            if piece in tick.evidence:
                evidence = tick.evidence[piece]
                lines.append(f"  {evidence.check.mark} {piece.value:<9} {clip(evidence.detail, 160)}")
        lines += [f"  feedback    {describe_feedback(f)}" for f in tick.feedback]
    lines.append("")
    if report.broken_by:
        lines.append(f"streak broken by: {clip(report.broken_by, 400)}")
    elif report.reached_history_start:
        lines.append("streak unbroken back to the first scheduled run")
    else:
        lines.append(f"streak unbroken over all {len(report.ticks)} tick(s) walked")
    lines += [f"could not check: {clip(detail, 300)}" for detail in report.unknown]
    if report.figures:
        decided = sum(1 for tick in report.ticks if not tick.pending)
        lines += ["", f"figures over the {decided} decided tick(s) walked:"]
        width = max(len(figure.label) for figure in report.figures)
        for figure in report.figures:
            detail = f"  ({figure.detail})" if figure.detail else ""
            lines.append(f"  {figure.label:<{width}}  {figure.shown}{detail}")
    lines.append("legend: ✓ passed  ✗ failed  ? unknown (could not be checked; never counted as passed)")
    return "\n".join(lines)


def _run_label(tick: TickEvidence) -> str:
    if tick.run is None:
        return "no run" if tick.pending else "MISSED"
    late = " LATE" if tick.run.late else ""
    return f"run {tick.run.row_id} {tick.run.status}{late}"


def describe_feedback(feedback: Feedback) -> str:
    by = f" by {clip(feedback.reviewer, 60)}" if feedback.reviewer else ""
    note = f": {clip(feedback.note, 200)}" if feedback.note else ""
    posted = f"State Hub event {feedback.progress_event_id}" if feedback.progress_event_id else "not yet in State Hub"
    return f"{feedback.verdict}{by} on {feedback.recorded_at.date()}{note} ({posted})"


# --- replay ----------------------------------------------------------------------------


def handle_replay(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    require(settings, "DATABASE_URL")
    definition = load_definition(args.definition, definitions_directory(settings.definitions_dir)).definition

    async def work() -> int:
        async with open_stores(settings) as stores:
            runs = await stores.history.recent_finished(definition.id, args.runs)
        replayed = [replay_run(definition, run) for run in runs]
        differing = [r for r in replayed if r.differs]
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "run": r.run.id,
                            "workflow_id": r.run.workflow_id,
                            "trigger": r.run.trigger,
                            "status": r.run.status,
                            "differs": r.differs,
                            "differences": list(r.differences),
                            "skipped": r.skipped,
                        }
                        for r in replayed
                    ],
                    indent=2,
                )
            )
        else:
            print(render_replay(definition.id, replayed))
        return 1 if differing else 0

    return asyncio.run(work())


def render_replay(definition_id: str, replayed: list[Replayed]) -> str:
    differing = [r for r in replayed if r.differs]
    skipped = [r for r in replayed if r.skipped]
    judged = len(replayed) - len(skipped)
    lines = [
        f"replayed {judged} kept answer(s) of {definition_id} through today's boundary: "
        + (f"{len(differing)} would differ" if differing else "none would differ")
    ]
    for r in differing:
        lines.append(f"run {r.run.id}  {r.run.local_date}  {r.run.trigger}  {r.run.status}")
        lines += [f"  {clip(difference, 300)}" for difference in r.differences]
    if skipped:
        lines.append(
            f"not replayed: {len(skipped)} run(s) without a kept answer ({clip(skipped[0].skipped or '', 120)})"
        )
    return "\n".join(lines)


# --- feedback --------------------------------------------------------------------------


def handle_feedback(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    require(settings, "DATABASE_URL", "STATE_HUB_URL")

    async def work() -> int:
        async with open_stores(settings) as stores, open_state_hub(settings) as state_hub:
            try:
                _, message = await record_feedback(
                    stores.runs,
                    stores.feedback,
                    state_hub,
                    args.run,
                    verdict=args.verdict,
                    note=args.note,
                    reviewer=args.reviewer,
                )
            except UnknownRun:
                raise RunNotFound(args.run) from None
            except StateHubError as exc:
                raise CommandError(
                    f"the verdict is stored, but State Hub did not take it ({exc})",
                    "run the same command again to post it",
                ) from None
        print(message)
        return 0

    return asyncio.run(work())
