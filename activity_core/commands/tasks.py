"""``activity-core tasks list|show``: the task specs runs planned, and what became of them.

Reads ``task_spawn_log`` (DATABASE_URL only; never issue-core): the review step of a
rollout (a null-mode run's specs), the expected-count check after switching a definition to
``rest``, and the references that stay after a rollback to ``ISSUE_SINK_TYPE=null``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from activity_core.commands.common import require
from activity_core.commands.errors import CommandError
from activity_core.commands.runs import bounded_int
from activity_core.settings import Settings
from activity_core.store import create_pool
from activity_core.store.tasks import SpawnRow, TaskQuery, TaskSpawnLog

EPILOG = """\
examples:
  activity-core tasks list --run 42              the specs of run 42 (a row id of `runs list`)
  activity-core tasks list --run WORKFLOW_ID     ... or of a workflow id (WORKFLOW_ID/RUN_ID for one run)
  activity-core tasks list --definition DEFINITION --json
  activity-core tasks show ISSUE-123             every run that filed, found or commented on it
  activity-core tasks show 'ac1:<definition>:<candidate>:<fingerprint>:e1'

States: planned (null sink: computed, nothing sent), dry_run (the exact request is logged),
created, duplicate (the task is still open), commented, unknown (a create may have landed;
looked up before any retry), failed (the message says why), not_emitted (the reason says why).

Exit codes: 0 done, 1 not found, 2 configuration (a variable to set), 3 PostgreSQL unavailable.
"""

LIST_FIELDS = (
    "id", "definition_id", "workflow_id", "run_id", "occurrence", "candidate", "item_rank", "episode",
    "idempotency_key", "payload_hash", "requested_sink", "sink", "state", "review_required", "on_recurrence",
    "reason", "reason_detail", "task_id", "task_url", "comment_id", "error_class", "error_message", "attempts",
    "created_at", "updated_at", "finished_at",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tasks",
        help="the task specs runs planned and what issue-core answered (task_spawn_log)",
        description="Read the task spawn log in PostgreSQL (DATABASE_URL): one row per task spec per run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="task specs, newest first",
        description="One line per task spec: state, sink, rank, the issue-core reference, the candidate and "
        "the idempotency key.",
    )
    listing.add_argument(
        "--run", metavar="RUN", help="a run's row id (as in `runs list`), its workflow id, or WORKFLOW_ID/RUN_ID"
    )
    listing.add_argument("--definition", metavar="ID", help="only this definition id")
    listing.add_argument(
        "--limit", type=bounded_int(1, 10_000), default=200, metavar="N", help="at most N rows (default 200)"
    )
    listing.add_argument(
        "--json", action="store_true", help="a JSON array of objects (run_id, idempotency_key, state, ref, ...)"
    )
    listing.set_defaults(handler=handle_list)

    show = actions.add_parser(
        "show",
        help="one task's history across runs: spec, request, reference, errors",
        description="Every row under an idempotency key, or under an issue-core task key (ISSUE-123), oldest first.",
    )
    show.add_argument("key", metavar="KEY", help="our idempotency key, or issue-core's task key")
    show.add_argument("--json", action="store_true", help="the rows as a JSON array")
    show.set_defaults(handler=handle_show)


def listed(row: SpawnRow) -> dict[str, object]:
    """A row as ``--json`` prints it: ``ref`` is issue-core's task key (null until there is one)."""
    return {**row.model_dump(mode="json", include=set(LIST_FIELDS)), "ref": row.ref}


# --- list ------------------------------------------------------------------------------


def handle_list(args: argparse.Namespace) -> int:
    return _with_log(
        args.settings, lambda spawn_log: list_tasks(spawn_log, args.run, args.definition, args.limit, as_json=args.json)
    )


async def list_tasks(
    spawn_log: TaskSpawnLog, run: str | None, definition: str | None, limit: int, *, as_json: bool
) -> int:
    query = TaskQuery(definition_id=definition, limit=limit)
    if run is not None:
        resolved = await _resolve_run(spawn_log, run)
        if resolved is None:
            raise CommandError(
                f"no run {run!r} has task specs",
                "give a row id of `activity-core runs list`, a workflow id, or WORKFLOW_ID/RUN_ID",
            )
        query = query.model_copy(update=resolved)
    rows = await spawn_log.list_rows(query)
    if as_json:
        print(json.dumps([listed(row) for row in rows], indent=2))
    elif not rows:
        print("no task specs match", file=sys.stderr)
    else:
        print(render_task_rows(rows))
    return 0


async def _resolve_run(spawn_log: TaskSpawnLog, ref: str) -> dict[str, str] | None:
    if ref.isascii() and ref.isdigit() and int(ref) < 2**63:
        run = await spawn_log.run_of_history_row(int(ref))
        if run is not None:
            return {"workflow_id": run[0], "run_id": run[1]}
    if await spawn_log.list_rows(TaskQuery(workflow_id=ref, limit=1)):
        return {"workflow_id": ref}
    workflow_id, slash, run_id = ref.rpartition("/")
    if slash and await spawn_log.list_rows(TaskQuery(workflow_id=workflow_id, run_id=run_id, limit=1)):
        return {"workflow_id": workflow_id, "run_id": run_id}
    return None


def render_task_rows(rows: list[SpawnRow]) -> str:
    """The table ``tasks list`` prints (``runs show`` can list a run's tasks with it too)."""
    header = (
        f"{'DATE':<10}  {'STATE':<11}  {'SINK':<7}  {'RANK':>4}  {'REF':<12}  {'CANDIDATE':<36}  KEY / REASON / ERROR"
    )
    lines = [header]
    for row in rows:
        tail = row.idempotency_key or ""
        if row.reason:
            tail = f"{row.reason}: {row.reason_detail or ''}"
        elif row.error_message:
            tail = f"{tail}  ({row.error_class}: {row.error_message})"
        lines.append(
            f"{row.occurrence.isoformat():<10}  {row.state.value:<11}  {row.sink.value:<7}  {_dash(row.item_rank):>4}  "
            f"{row.ref or '-':<12}  {(row.candidate or '-')[:36]:<36}  {tail}"
        )
    return "\n".join(lines)


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


# --- show ------------------------------------------------------------------------------


def handle_show(args: argparse.Namespace) -> int:
    return _with_log(args.settings, lambda spawn_log: show_task(spawn_log, args.key, as_json=args.json))


async def show_task(spawn_log: TaskSpawnLog, key: str, *, as_json: bool) -> int:
    rows = await spawn_log.rows_for_key(key)
    if not rows:
        raise CommandError(
            f"no task spec under {key!r}", "give an idempotency key or an issue-core task key (see `tasks list`)"
        )
    if as_json:
        print(json.dumps([{**row.model_dump(mode="json"), "ref": row.ref} for row in rows], indent=2))
        return 0
    print("\n\n".join(_describe(row) for row in rows))
    return 0


def _describe(row: SpawnRow) -> str:
    spec = row.spec or {}
    lines = [
        f"{row.state.value} in run {row.workflow_id}/{row.run_id} ({row.definition_id}, {row.occurrence.isoformat()})",
        f"  key:        {row.idempotency_key or '-'} (episode {_dash(row.episode)}, payload {(row.payload_hash or '-')[:16]})",
        f"  sink:       {row.sink.value} (definition asked for {row.requested_sink.value})",
        f"  candidate:  {row.candidate or '-'} (rank {_dash(row.item_rank)})",
        f"  task:       {row.ref or '-'} {row.task_url or ''}".rstrip(),
        f"  attempts:   {row.attempts}" + (f", last sent {row.last_sent_at.isoformat()}" if row.last_sent_at else ""),
    ]
    if spec:
        lines.append(f"  spec:       {spec.get('title')!r} -> {spec.get('repo')} {spec.get('labels')}")
        lines.append(f"  review:     {'required (audit only: never sent)' if row.review_required else 'not required'}")
    if row.comment_id or row.comment_key:
        lines.append(f"  comment:    {row.comment_id or '-'} ({row.comment_key})")
    if row.reason:
        lines.append(f"  not emitted: {row.reason}: {row.reason_detail}")
    if row.error_message:
        lines.append(f"  error:      {row.error_class}: {row.error_message}")
    if row.request:
        lines.append("  request (dry run):\n" + _indented(json.dumps(row.request, indent=2)))
    return "\n".join(lines)


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _with_log(settings: Settings, work: Callable[[TaskSpawnLog], Awaitable[int]]) -> int:
    require(settings, "DATABASE_URL")

    async def opened() -> int:
        timeout = settings.db_command_timeout_seconds
        pool = await create_pool(settings.database_dsn() or "", min_size=1, max_size=2, command_timeout=timeout)
        try:
            return await work(TaskSpawnLog(pool, timeout=timeout))
        finally:
            await pool.close()

    return asyncio.run(opened())
