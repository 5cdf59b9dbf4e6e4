"""``activity-core run``: one triage run, end to end, on the local stack (or real services).

Stopping is part of the command: SIGINT (Ctrl-C) and SIGTERM stop the worker (in-flight
activities get ``STOP_GRACE``), then every server the stack started, and end with one line.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.runtime import Runtime

from activity_core.commands.common import load_definitions
from activity_core.commands.errors import ExitCode, UsageError
from activity_core.commands.runs import render_run_tasks
from activity_core.commands.temporal_runtime import run_on_own_runtime
from activity_core.definitions.loader import DefinitionNotFound
from activity_core.kinds.instruction.definition import TRIAGE_DEFINITION_ID
from activity_core.kinds.registry import KINDS
from activity_core.observability.metrics import Metrics
from activity_core.runs.models import RunInput, RunStatus
from activity_core.runs.report import render_run
from activity_core.settings import Settings
from activity_core.store.migrations import apply_migrations
from activity_core.store.tasks import TaskSpawnLog
from activity_core.temporal.awaiting import await_run
from activity_core.temporal.schedules import sync_schedules
from activity_core.temporal.worker import ServiceEndpoints, connect_temporal, create_worker, open_services

DEFAULT_DEFINITION = TRIAGE_DEFINITION_ID
# A local worker stops at once when asked: the cluster's drain (ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS)
# would keep a Ctrl-C waiting for minutes.
STOP_GRACE = timedelta(seconds=2)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

EPILOG = """\
examples:
  activity-core run                         everything embedded: Temporal, PostgreSQL, emulators
  activity-core run --stay-up               ...and keep the worker up for the 07:20 schedule;
                                            another terminal: source .activity-core/stack.env
  LLM_CONNECT_URL=http://localhost:8080 activity-core run
                                            a real llm-connect, the rest embedded
  activity-core run --no-worker             start a manual run on TEMPORAL_ADDRESS and wait;
                                            the deployed workers execute it

Ctrl-C (or SIGTERM) stops the worker and every server the stack started.
Exit code: 0 when the run ends clean or partial (or --stay-up is stopped), 1 when it failed (or was refused:
a trigger's pass is in flight),
2 for a setup problem, 3 when a service cannot be reached, 130 when interrupted mid-run.
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
    parser.add_argument(
        "--definition", default=DEFAULT_DEFINITION, help=f"definition id (default: {DEFAULT_DEFINITION})"
    )
    parser.add_argument(
        "--stay-up",
        action="store_true",
        help="keep the stack and worker up for the schedule, and write stack.env (in ACTIVITY_CORE_DATA_DIR) "
        "for other terminals (Ctrl-C stops)",
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="do not start a local worker; one elsewhere executes the run"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the run (default: 900)")
    parser.set_defaults(handler=handle)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def handle(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if args.no_worker and not settings.temporal_address:
        raise UsageError(
            "--no-worker needs TEMPORAL_ADDRESS (the Temporal whose workers will run it)",
            "set it, or drop --no-worker: without a worker nothing would ever pick the run up",
        )
    definitions = load_definitions(settings)
    if args.definition not in definitions:
        raise DefinitionNotFound(args.definition, settings.definitions_dir, sorted(definitions))
    try:  # the local stack is in a source checkout only: the wheel and the image leave it out
        from activity_core.devstack.stack import local_stack
    except ModuleNotFoundError:
        raise UsageError(
            "the local stack (activity_core.devstack) is not part of this installation",
            "use a source checkout (`make run`), or start a run with `temporal schedule trigger` or "
            "`temporal workflow start` (docs/runbook.md)",
        ) from None
    _progress("activity-core: preparing the local stack")
    try:
        with _sigterm_interrupts(), local_stack(settings, _progress, persistent=args.stay_up) as endpoints:
            return run_on_own_runtime(lambda runtime: _run(settings, endpoints, definitions, args, runtime))
    except KeyboardInterrupt:
        if not args.stay_up:
            raise
        _progress("activity-core: stopped; the stack is down")
        return ExitCode.OK


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the command like Ctrl-C (``KeyboardInterrupt``), so the stack is taken down
    by the same unwinding instead of the process dying with its servers left running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


async def _run(
    settings: Settings, endpoints: ServiceEndpoints, definitions: dict, args: argparse.Namespace, runtime: Runtime
) -> int:
    """The run, or ``KeyboardInterrupt`` once a stop signal has shut the worker down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        work = asyncio.ensure_future(_work(settings, endpoints, definitions, args, runtime))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if work.done():
            return work.result()
        work.cancel()  # leaves the worker's block: it shuts down within STOP_GRACE
        await asyncio.gather(work, return_exceptions=True)
        raise KeyboardInterrupt
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)  # which resets them to the default...
        signal.signal(signal.SIGTERM, _interrupt)  # ...so the stack's teardown still has its SIGTERM


async def _work(
    settings: Settings, endpoints: ServiceEndpoints, definitions: dict, args: argparse.Namespace, runtime: Runtime
) -> int:
    client = await connect_temporal(endpoints.temporal_address, settings.temporal_namespace, runtime)
    async with open_services(settings, endpoints, Metrics()) as deps:
        applied = await apply_migrations(deps.runs.pool, settings.migrations_dir)
        _progress(f"  migrations: {', '.join(applied) if applied else 'up to date'}")
        for action in await sync_schedules(client, definitions, task_queue=settings.task_queue):
            _progress(f"  schedule {action}")
        if args.no_worker:
            return await _trigger_and_report(client, deps, settings, endpoints, definitions, args)
        worker = create_worker(client, task_queue=settings.task_queue, services=deps, graceful_shutdown=STOP_GRACE)
        async with worker:
            _progress(f"  worker polling task queue {settings.task_queue!r}")
            code = await _trigger_and_report(client, deps, settings, endpoints, definitions, args)
            if args.stay_up:
                _announce_stack(settings, endpoints)
                await asyncio.Event().wait()
            return code


def _announce_stack(settings: Settings, endpoints: ServiceEndpoints) -> None:
    """Where a second terminal finds this stack; the token is in the file, never on the screen."""
    from activity_core.devstack.stack import STACK_ENV, write_stack_env

    path = write_stack_env(settings.data_dir / STACK_ENV, endpoints)
    _progress("activity-core: staying up for the schedule; Ctrl-C stops")
    _progress("  from another terminal:")
    _progress(f"    source {_shown_path(path)}")
    _progress("    activity-core runs list")
    _progress(f"    activity-core calibration status {DEFAULT_DEFINITION}")


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (as typed), else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


async def _trigger_and_report(
    client, deps, settings: Settings, endpoints: ServiceEndpoints, definitions: dict, args: argparse.Namespace
) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
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
    try:
        while not result_task.done():
            done, _ = await asyncio.wait({result_task}, timeout=5)
            if not done:
                waited += 5
                _progress(f"  still running ({waited}s) ...")
    finally:
        result_task.cancel()
    summary = result_task.result()
    record = await deps.runs.get_run(handle.id)
    if record is None:
        print(f"run finished with status {summary.status} (no row found)")
    else:
        print(render_run(record, temporal_address=endpoints.temporal_address))
        spawn_log = TaskSpawnLog(deps.runs.pool, timeout=settings.db_command_timeout_seconds)
        spawned = await spawn_log.rows_of_run(record.workflow_id, record.run_id)
        if spawned:  # the task specs it planned: what a null-mode review reads
            print(render_run_tasks(spawned))
    return ExitCode.FAILED if RunStatus(summary.status).failed else ExitCode.OK
