"""``activity-core schedules sync``: make Temporal's schedules match the definitions."""

from __future__ import annotations

import argparse

from temporalio.runtime import Runtime

from activity_core.commands.common import load_definitions
from activity_core.commands.errors import UsageError
from activity_core.commands.temporal_runtime import run_on_own_runtime
from activity_core.settings import Settings
from activity_core.temporal.schedules import sync_schedules
from activity_core.temporal.worker import connect_temporal


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedules",
        help="reconcile Temporal schedules with the definitions",
        description="Manage the Temporal schedules that fire the definitions (schedule id = definition id).",
    )
    actions = parser.add_subparsers(dest="schedules_command", metavar="ACTION", required=True)
    sync = actions.add_parser(
        "sync",
        help="create, update or pause schedules to match definitions/",
        description=(
            "Create missing schedules, update changed ones (keeping an operator's pause and its note), "
            "pause disabled definitions with a note, and leave schedules activity-core does not own "
            "alone. Safe to run repeatedly: an unchanged definition is not rewritten."
        ),
        epilog="example: TEMPORAL_ADDRESS=localhost:7233 activity-core schedules sync --dry-run",
    )
    sync.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    sync.set_defaults(handler=handle_sync)


def handle_sync(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if not settings.temporal_address:
        raise UsageError("TEMPORAL_ADDRESS is not set", "set it to host:port of the Temporal frontend")
    definitions = load_definitions(settings)
    return run_on_own_runtime(lambda runtime: _sync(settings, definitions, args.dry_run, runtime))


async def _sync(settings: Settings, definitions: dict, dry_run: bool, runtime: Runtime) -> int:
    client = await connect_temporal(settings.temporal_address or "", settings.temporal_namespace, runtime)
    actions = await sync_schedules(client, definitions, task_queue=settings.task_queue, dry_run=dry_run)
    prefix = "(dry run) " if dry_run else ""
    for action in actions:
        print(f"{prefix}{action}")
    if not actions:
        print(f"{prefix}no definitions, nothing to do")
    return 0
