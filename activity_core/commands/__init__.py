"""Subcommands of ``activity-core``: each module exposes ``register(subparsers)``.

A command's parser sets ``handler`` (a callable taking the parsed args, returning the
exit code) with ``parser.set_defaults(handler=...)``.
"""

from __future__ import annotations

import importlib

_NAMES = [
    "run",
    "worker",
    "definitions",
    "schedules",
    "migrate",
    "replay_output",
    "runs",
    "calibration",
    "report",
]

COMMAND_MODULES = []
for _name in _NAMES:
    try:
        COMMAND_MODULES.append(importlib.import_module(f"activity_core.commands.{_name}"))
    except ModuleNotFoundError as _exc:  # pragma: no cover - while a command is being built
        if _exc.name != f"activity_core.commands.{_name}":
            raise
