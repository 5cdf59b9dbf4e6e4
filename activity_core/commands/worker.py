"""``activity-core worker``: the long-running Temporal worker (what the cluster Deployment runs)."""

from __future__ import annotations

import argparse

from activity_core.commands.temporal_runtime import run_on_own_runtime
from activity_core.observability.logging import configure_logging
from activity_core.observability.metrics import temporal_prometheus_runtime
from activity_core.settings import Settings
from activity_core.temporal.worker import serve


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the Temporal worker (health and metrics on ACTIVITY_CORE_HEALTH_PORT)",
        description=(
            "Poll the task queue and run the workflows and activities of every definition kind. Needs TEMPORAL_ADDRESS, "
            "DATABASE_URL, LLM_CONNECT_URL and STATE_HUB_URL. Serves /healthz, /readyz and /metrics on "
            "ACTIVITY_CORE_HEALTH_PORT. SIGTERM drains in-flight activities for "
            "ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS before exiting."
        ),
        epilog=(
            "/healthz (liveness) is 200 while the Temporal worker runs; /readyz adds PostgreSQL. "
            "Exit code: 0 after a drain, 2 for a configuration error, one line on stderr naming the "
            "variable to change (a missing address, an invalid definition, a health port already in use)."
        ),
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    configure_logging(settings.log_level, settings.log_format)
    run_on_own_runtime(lambda metrics: serve(settings, temporal_metrics=metrics), temporal_prometheus_runtime)
    return 0
