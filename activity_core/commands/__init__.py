"""Subcommands of ``activity-core``: each module exposes ``register(subparsers)``.

A command's parser sets ``handler`` (a callable taking the parsed args, returning the
exit code) with ``parser.set_defaults(handler=...)``.
"""

from __future__ import annotations

from activity_core.commands import (
    calibration,
    command_worker,
    definitions,
    migrate,
    replay_output,
    report,
    run,
    runs,
    schedules,
    smoke,
    tasks,
    worker,
)

COMMAND_MODULES = [
    run,
    worker,
    migrate,
    schedules,
    definitions,
    replay_output,
    runs,
    tasks,
    calibration,
    report,
    command_worker,
    smoke,
]
