"""``activity-core definitions check``: validate every definition the worker would load."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from activity_core.definitions.loader import DefinitionError, definition_paths, load_definition_file
from activity_core.settings import Settings


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
    check.add_argument("--dir", type=Path, default=None, help="definitions directory (default: ACTIVITY_CORE_DEFINITIONS_DIR)")
    check.set_defaults(handler=check_definitions)


def check_definitions(args: argparse.Namespace) -> int:
    directory: Path = args.dir or Settings().definitions_dir
    paths = definition_paths(directory)
    if not paths:
        print(f"no definitions (*.yaml) in {directory}", file=sys.stderr)
        return 2
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
