"""``activity-core definitions check``: validate every definition the worker would load."""

from __future__ import annotations

import argparse
from pathlib import Path

from activity_core.commands.common import definitions_directory
from activity_core.commands.errors import UsageError
from activity_core.definitions.loader import DefinitionError, definition_paths, load_definition_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "definitions",
        help="validate the activity definitions",
        description="Work with the YAML activity definitions in ACTIVITY_CORE_DEFINITIONS_DIR.",
    )
    actions = parser.add_subparsers(dest="definitions_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate every definition (exit 1 if any is broken)",
        description=(
            "Load and validate every *.yaml definition against schemas/activity-definition.schema.json "
            "and check its prompt template. Prints each problem with the file and the field."
        ),
    )
    check.add_argument(
        "--dir", type=Path, default=None, help="definitions directory (default: ACTIVITY_CORE_DEFINITIONS_DIR)"
    )
    check.set_defaults(handler=check_definitions)


def check_definitions(args: argparse.Namespace) -> int:
    directory = definitions_directory(args.dir or args.settings.definitions_dir)
    paths = definition_paths(directory)
    if not paths:
        raise UsageError(
            f"no definitions (*.yaml) in {directory}", "point --dir or ACTIVITY_CORE_DEFINITIONS_DIR at them"
        )
    broken = 0
    for path in paths:
        try:
            loaded = load_definition_file(path)
        except DefinitionError as exc:
            broken += 1
            print(f"FAIL {exc}")
            continue
        d = loaded.definition
        state = "enabled" if d.enabled else "disabled"
        print(f"ok   {path.name}: {d.id} ({d.kind}, {state}, {d.schedule.describe()})")
    print(f"{len(paths) - broken} valid, {broken} broken")
    return 1 if broken else 0
