"""``activity-core command-worker``: run trigger passes on the command's side (ADR-006)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import sys
from typing import NoReturn

from activity_core.kinds.trigger.command_activity import CommandPolicy
from activity_core.kinds.trigger.command_worker import CommandWorkerConfig, serve_commands
from activity_core.observability.logging import configure_logging
from activity_core.settings import Settings, environment_values

EPILOG = """\
example (ops-warden's pod, with its own STATE_HUB_TOKEN and LLM_CONNECT_URL):
  TEMPORAL_ADDRESS=temporal-frontend.temporal.svc.cluster.local:7233 \\
  activity-core command-worker --task-queue ops-warden-commands \\
      --allow 'warden worker run --once' --secret-env STATE_HUB_TOKEN

Only argv that starts with an --allow prefix runs (compared word by word, as shlex splits
it). Values of the --secret-env variables are replaced by "[redacted $NAME]" in the command's
output before it leaves this process. --dry-run-only refuses execute passes: the first stage
of a rollout. Exit code: 0 after a clean shutdown, 2 for a usage or configuration error.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "command-worker",
        help="serve trigger passes on the command's side (e.g. ops-warden's pod)",
        description=(
            "A Temporal worker for one task queue that runs the trigger kind's command activity: "
            "the allowed command, in its own process group, within the definition's time budget, "
            "heartbeating; its output redacted and bounded (64 KiB per stream) before it is returned. "
            "Needs TEMPORAL_ADDRESS; nothing of activity-core's own (no database, no State Hub token)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task-queue", required=True, help="the task queue the trigger definition names")
    parser.add_argument(
        "--allow",
        action="append",
        required=True,
        metavar="PREFIX",
        help="an allowed argv prefix, e.g. 'warden worker run --once' (repeatable)",
    )
    parser.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="NAME",
        help="an environment variable whose value must never leave this process (repeatable)",
    )
    parser.add_argument("--dry-run-only", action="store_true", help="refuse execute passes")
    parser.add_argument(
        "--health-port", type=int, default=0, help="serve /healthz and /readyz on this port (default: off)"
    )
    parser.set_defaults(handler=handle)


def _fail(message: str) -> int:
    print(f"activity-core command-worker: {message}", file=sys.stderr)
    return 2


def handle(args: argparse.Namespace) -> int:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.temporal_address:
        return _fail("set TEMPORAL_ADDRESS to the Temporal frontend the trigger runs on")
    prefixes = tuple(tuple(shlex.split(prefix)) for prefix in args.allow)
    values = environment_values(args.secret_env)
    unset = sorted(name for name, value in values.items() if not value)
    if unset:
        return _fail(f"--secret-env names unset variable(s) {', '.join(unset)}: set them or drop the flag")
    try:
        policy = CommandPolicy(
            allowed_prefixes=prefixes,
            secrets={name: value for name, value in values.items() if value},
            dry_run_only=args.dry_run_only,
        )
    except ValueError as exc:
        return _fail(str(exc))
    config = CommandWorkerConfig(
        temporal_address=settings.temporal_address,
        temporal_namespace=settings.temporal_namespace,
        task_queue=args.task_queue,
        policy=policy,
        graceful_shutdown_seconds=settings.graceful_shutdown_seconds,
        health_port=args.health_port,
    )
    try:
        asyncio.run(serve_commands(config))
    except RuntimeError as exc:  # the SDK's "Failed client connect: ..."
        return _fail(f"cannot serve task queue {args.task_queue!r} on Temporal at {settings.temporal_address}: {exc}")
    _exit_without_finalizing()


def _exit_without_finalizing() -> NoReturn:
    """Exit 0 after a clean shutdown without tearing the interpreter down.

    The Temporal SDK's Rust threads can still be releasing Python objects while CPython
    finalizes, which aborts the process (SIGABRT, "PyGILState_Release: thread state ... must be
    current", temporalio/sdk-python#300; about one shutdown in twenty here). Everything this
    process owns is closed by now, so skipping finalization loses nothing.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
