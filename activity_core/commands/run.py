"""``activity-core run``: one triage run, end to end, on the local stack (or real services)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timedelta, timezone

from activity_core.definitions.loader import DefinitionError, DefinitionNotFound, load_all
from activity_core.observability.metrics import Metrics
from activity_core.runs.models import RunInput, RunStatus
from activity_core.runs.report import render_run
from activity_core.temporal.awaiting import await_run
from activity_core.temporal.schedules import sync_schedules
from activity_core.settings import Settings
from activity_core.store.migrations import apply_migrations
from activity_core.store.pool import StoreError
from activity_core.kinds.registry import KINDS
from activity_core.temporal.worker import ServiceEndpoints, call_ceilings, connect_temporal, create_worker, open_services

DEFAULT_DEFINITION = "daily-statehub-wsjf-triage"

EPILOG = """\
examples:
  activity-core run                         everything embedded: Temporal, PostgreSQL, emulators
  activity-core run --stay-up               ...and keep the worker up for the 07:20 schedule
  LLM_CONNECT_URL=http://localhost:8080 activity-core run
                                            a real llm-connect, the rest embedded
  activity-core run --no-worker             start a manual run on TEMPORAL_ADDRESS and wait;
                                            the deployed workers execute it

Exit code: 0 when the run ends clean or partial, 1 when it failed (or was refused: a trigger's pass
is in flight), 2 for a setup problem.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the triage once on the local stack and print its report",
        description=(
            "Start what the environment does not name (Temporal dev server, embedded PostgreSQL, "
            "the State Hub and llm-connect emulators), apply the migrations, sync the schedules, "
            "start a worker, trigger one manual run, wait for it and print the ranked report, "
            "its status and its evidence ids."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--definition", default=DEFAULT_DEFINITION, help=f"definition id (default: {DEFAULT_DEFINITION})")
    parser.add_argument("--stay-up", action="store_true", help="keep the stack and worker running for the schedule (Ctrl-C stops)")
    parser.add_argument("--no-worker", action="store_true", help="do not start a local worker; one elsewhere executes the run")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the run (default: 900)")
    parser.set_defaults(handler=handle)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def handle(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.no_worker and not settings.temporal_address:
        print(
            "activity-core run: --no-worker needs TEMPORAL_ADDRESS (the Temporal whose workers will run it); "
            "without it nothing would ever pick the run up",
            file=sys.stderr,
        )
        return 2
    try:
        definitions = load_all(settings.definitions_dir, call_ceilings(settings))
        if args.definition not in definitions:
            raise DefinitionNotFound(args.definition, settings.definitions_dir, sorted(definitions))
    except (DefinitionError, DefinitionNotFound) as exc:
        print(f"activity-core run: {exc}", file=sys.stderr)
        return 2
    try:  # the local stack is in a source checkout only: the wheel and the image leave it out
        from activity_core.devstack.embedded import EmbeddedServerError
        from activity_core.devstack.stack import local_stack
    except ModuleNotFoundError:
        print(
            "activity-core run: the local stack (activity_core.devstack) is not part of this installation "
            "(the wheel and the production image leave it out); use a source checkout (`make run`), or start "
            "a run with `temporal schedule trigger` or `temporal workflow start` (docs/runbook.md)",
            file=sys.stderr,
        )
        return 2
    _progress("activity-core: preparing the local stack")
    try:
        with local_stack(settings, _progress, persistent=args.stay_up) as endpoints:
            return asyncio.run(_run(settings, endpoints, definitions, args))
    except (EmbeddedServerError, StoreError) as exc:
        print(f"activity-core run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _progress("activity-core: stopped")
        return 0


async def _run(settings: Settings, endpoints: ServiceEndpoints, definitions: dict, args: argparse.Namespace) -> int:
    client = await connect_temporal(endpoints.temporal_address, settings.temporal_namespace)
    async with open_services(settings, endpoints, Metrics()) as deps:
        applied = await apply_migrations(deps.runs.pool, settings.migrations_dir)
        _progress(f"  migrations: {', '.join(applied) if applied else 'up to date'}")
        for action in await sync_schedules(client, definitions, task_queue=settings.task_queue):
            _progress(f"  schedule {action}")
        if args.no_worker:
            return await _trigger_and_report(client, deps, settings, definitions, args)
        worker = create_worker(
            client,
            task_queue=settings.task_queue,
            services=deps,
            graceful_shutdown=timedelta(seconds=settings.graceful_shutdown_seconds),
        )
        async with worker:
            _progress(f"  worker polling task queue {settings.task_queue!r}")
            code = await _trigger_and_report(client, deps, settings, definitions, args)
            if args.stay_up:
                _progress("activity-core: staying up for the schedule; Ctrl-C stops")
                await asyncio.Event().wait()
            return code


async def _trigger_and_report(client, deps, settings: Settings, definitions: dict, args: argparse.Namespace) -> int:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kind = KINDS[definitions[args.definition].definition.kind]
    if kind.busy is not None:
        reason = await kind.busy(client, args.definition)
        if reason is not None:
            print(f"activity-core run: refusing to start {args.definition}: {reason}", file=sys.stderr)
            return 1
    handle = await client.start_workflow(
        kind.workflow_name,
        RunInput(definition_id=args.definition),
        id=f"manual-{args.definition}-{stamp}",
        task_queue=settings.task_queue,
        execution_timeout=timedelta(seconds=args.timeout),
    )
    _progress(f"activity-core: manual run started, workflow id {handle.id}")
    result_task = asyncio.ensure_future(await_run(handle))
    waited = 0
    while not result_task.done():
        done, _ = await asyncio.wait({result_task}, timeout=5)
        if not done:
            waited += 5
            _progress(f"  still running ({waited}s) ...")
    summary = result_task.result()
    record = await deps.runs.get_run(handle.id)
    print(render_run(record) if record else f"run finished with status {summary.status} (no row found)")
    return 1 if RunStatus(summary.status).failed else 0
