"""``activity-core runs list|show|prune``: run history as operators read and trim it.

Reads need only DATABASE_URL. The stores are opened here for the ``calibration`` and
``report`` commands too, so every history command reports a missing variable, an
unreachable database or an unmigrated schema in the same words.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from activity_core.commands.common import require
from activity_core.commands.errors import CommandError, UsageError, file_problem
from activity_core.runs.models import RunStatus, Trigger
from activity_core.runs.report import render_run, temporal_show_command
from activity_core.settings import Settings
from activity_core.store import RunQuery, RunRecord, RunStore, create_pool
from activity_core.store.feedback import FeedbackStore
from activity_core.store.history import HistoryStore, PruneResult
from activity_core.store.tasks import SpawnRow, TaskSpawnLog

LIST_FIELDS = (
    "id",
    "definition_id",
    "local_date",
    "trigger",
    "status",
    "items_kept",
    "items_quarantined",
    "truncated",
    "llm_latency_ms",
    "llm_attempts",
    "workflow_id",
    "run_id",
    "scheduled_at",
    "started_at",
    "finished_at",
)

EPILOG = """\
examples:
  activity-core runs list --trigger schedule --since 2026-11-01
  activity-core runs show 42                    a row id, or a workflow id
  activity-core runs prune --older-than 180 --raw-only

Exit codes: 0 done, 1 not found, 2 configuration (a variable to set), 3 PostgreSQL unavailable,
4 a file could not be written.
"""


@dataclass(frozen=True)
class Stores:
    runs: RunStore
    history: HistoryStore
    feedback: FeedbackStore
    tasks: TaskSpawnLog


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[Stores]:
    timeout = settings.db_command_timeout_seconds
    pool = await create_pool(settings.database_dsn() or "", min_size=1, max_size=4, command_timeout=timeout)
    try:
        yield Stores(
            runs=RunStore(pool, timeout=timeout),
            history=HistoryStore(pool, timeout=timeout),
            feedback=FeedbackStore(pool, timeout=timeout),
            tasks=TaskSpawnLog(pool, timeout=timeout),
        )
    finally:
        await pool.close()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list, show and prune recorded runs (activity_runs)",
        description="Read and trim the run history in PostgreSQL (DATABASE_URL).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="recorded runs, newest first",
        description="One line per run, newest first: local date (Europe/Berlin), trigger, status, items "
        "kept and quarantined, truncation, LLM latency and attempts.",
    )
    listing.add_argument("--definition", help="only this definition id")
    listing.add_argument("--status", choices=_choices(RunStatus), help="only runs with this status")
    listing.add_argument("--trigger", choices=_choices(Trigger), help="only scheduled or manual runs")
    listing.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="DATE",
        help="only runs started on or after this Europe/Berlin date (YYYY-MM-DD)",
    )
    listing.add_argument(
        "--limit", type=bounded_int(1, 1000), default=50, metavar="N", help="at most N runs (1-1000, default 50)"
    )
    listing.add_argument("--json", action="store_true", help="a JSON array instead of the table")
    listing.set_defaults(handler=handle_list)

    show = actions.add_parser(
        "show",
        help="one run in full: report, quarantine, failure, LLM call, evidence",
        description="The ranked report as kept, every quarantined item with reason, detail and snippet, the "
        "failure class and its sanitized message, the LLM call, timings, evidence ids and the "
        "command that opens the run's Temporal history.",
    )
    show.add_argument("run", metavar="RUN", help="a run's row id (as in `runs list`) or its workflow id")
    show.add_argument("--json", action="store_true", help="the whole row as JSON")
    show.add_argument(
        "--replay-files",
        type=Path,
        metavar="DIR",
        help="write the run's kept answer and reference allow-list to DIR and print the replay-output command",
    )
    show.set_defaults(handler=handle_show)

    prune = actions.add_parser(
        "prune",
        help="drop raw model output (or whole runs) older than a window",
        description="Drop the stored raw model output (--raw-only) or whole runs started more than DAYS days "
        "ago, in batches of 1000 rows. Never touches runs inside the window, nor the scheduled runs of "
        "a calibration streak in progress. Nothing is pruned unless you run this command.",
    )
    prune.add_argument(
        "--older-than",
        type=bounded_int(1, 100_000),
        metavar="DAYS",
        help="the window in days (default: ACTIVITY_CORE_RAW_RETENTION_DAYS; required when that is unset)",
    )
    prune.add_argument("--raw-only", action="store_true", help="keep the rows, drop only their raw model output")
    prune.set_defaults(handler=handle_prune)


def _choices(values: type[StrEnum]) -> list[str]:
    return [value.value for value in values]


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    parse.__name__ = "integer"  # what argparse names in "invalid integer value"
    return parse


# --- list ------------------------------------------------------------------------------


def handle_list(args: argparse.Namespace) -> int:
    query = RunQuery(
        definition_id=args.definition, status=args.status, trigger=args.trigger, since=args.since, limit=args.limit
    )
    return _with_stores(args.settings, lambda stores: list_runs(stores.runs, query, as_json=args.json))


async def list_runs(runs: RunStore, query: RunQuery, *, as_json: bool) -> int:
    records = await runs.list_runs(query)
    if as_json:
        print(json.dumps([_listed(r) for r in records], indent=2))
    elif not records:
        print("no runs match", file=sys.stderr)
    else:
        print(render_run_list(records))
    return 0


def _listed(record: RunRecord) -> dict[str, object]:
    return record.model_dump(mode="json", include=set(LIST_FIELDS))


def render_run_list(records: list[RunRecord]) -> str:
    header = f"{'ID':>8}  {'DATE':<10}  {'DEFINITION':<28}  {'TRIGGER':<8}  {'STATUS':<20}  {'KEPT':>4}  {'QUAR':>4}  {'TRUNC':<5}  {'LATENCY':>8}  {'ATT':>3}"
    lines = [header]
    for r in records:
        latency = _latency(r.llm_latency_ms)
        truncated = "-" if r.truncated is None else ("yes" if r.truncated else "no")
        lines.append(
            f"{r.id:>8}  {r.local_date.isoformat():<10}  {r.definition_id[:28]:<28}  {r.trigger:<8}  {r.status:<20}  "
            f"{_dash(r.items_kept):>4}  {_dash(r.items_quarantined):>4}  {truncated:<5}  {latency:>8}  {_dash(r.llm_attempts):>3}"
        )
    return "\n".join(lines)


def _latency(ms: int | None) -> str:
    if ms is None:
        return "-"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


# --- show ------------------------------------------------------------------------------


def handle_show(args: argparse.Namespace) -> int:
    def show(stores: Stores) -> Awaitable[int]:
        return show_run(
            stores.runs,
            args.run,
            as_json=args.json,
            replay_dir=args.replay_files,
            temporal_address=args.settings.temporal_address,
            tasks=stores.tasks,
        )

    return _with_stores(args.settings, show)


async def show_run(
    runs: RunStore,
    ref: str,
    *,
    as_json: bool,
    replay_dir: Path | None = None,
    temporal_address: str | None = None,
    tasks: TaskSpawnLog | None = None,
) -> int:
    """The run in full, with its task specs; with ``temporal_address`` its history command can be pasted as is."""
    record = await runs.get_run(ref)
    if record is None:
        raise RunNotFound(ref)
    if replay_dir is not None:
        return write_replay_files(record, replay_dir)
    spawned = await tasks.rows_of_run(record.workflow_id, record.run_id) if tasks is not None else []
    if as_json:
        from activity_core.commands.tasks import listed  # commands.tasks imports this module

        command = temporal_show_command(record, temporal_address)
        shown = {**record.model_dump(mode="json"), "temporal_history_command": command}
        print(json.dumps({**shown, "task_specs": [listed(row) for row in spawned]}, indent=2))
    else:
        print(render_run(record, temporal_address=temporal_address))
        if spawned:
            print(render_run_tasks(spawned))
    return 0


def render_run_tasks(rows: list[SpawnRow]) -> str:
    """A run's task specs under its report, as ``runs show`` and ``run`` print them."""
    from activity_core.commands.tasks import render_task_rows  # commands.tasks imports this module

    return f"\ntask specs ({len(rows)}; `activity-core tasks show KEY` for one):\n{render_task_rows(rows)}"


def write_replay_files(record: RunRecord, directory: Path) -> int:
    """The kept answer and allow-list as the files replay-output reads, and the command to run."""
    if not record.raw_content:
        raise CommandError(f"run {record.id} kept no raw answer (it failed before llm-connect answered, or was pruned)")
    response, refs = directory / f"run-{record.id}-response.json", directory / f"run-{record.id}-refs.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        response.write_text(
            json.dumps({"content": record.raw_content, "finish_reason": record.llm_finish_reason}), encoding="utf-8"
        )
        refs.write_text(json.dumps(record.known_refs or []), encoding="utf-8")
    except OSError as exc:
        raise file_problem(exc, "cannot write the replay files to") from None
    print(f"activity-core replay-output --definition {record.definition_id} --refs {refs} {response}")
    return 0


# --- prune -----------------------------------------------------------------------------


def handle_prune(args: argparse.Namespace) -> int:
    days = args.older_than or args.settings.raw_output_retention_days
    if days is None:
        raise UsageError(
            "say how old",
            "pass --older-than DAYS (or set ACTIVITY_CORE_RAW_RETENTION_DAYS); nothing is pruned by default",
        )
    return _with_stores(
        args.settings,
        lambda stores: prune_runs(stores.history, older_than_days=days, raw_only=args.raw_only, now=datetime.now(UTC)),
    )


async def prune_runs(history: HistoryStore, *, older_than_days: int, raw_only: bool, now: datetime) -> int:
    result = await history.prune(now - timedelta(days=older_than_days), raw_only=raw_only)
    print(describe_prune(result))
    return 0


def describe_prune(result: PruneResult) -> str:
    what = "dropped the raw model output of" if result.raw_only else "deleted"
    return (
        f"{what} {result.changed} run(s) started before {result.cutoff.isoformat(timespec='seconds')} "
        f"({result.batches} batch(es)); kept {result.protected} scheduled run(s) of a streak in progress"
    )


def _with_stores(settings: Settings, work: Callable[[Stores], Awaitable[int]]) -> int:
    require(settings, "DATABASE_URL")

    async def opened() -> int:
        async with open_stores(settings) as stores:
            return await work(stores)

    return asyncio.run(opened())


class RunNotFound(CommandError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no run with row id or workflow id {ref!r} in activity_runs", "see `activity-core runs list`")
