"""The ``activity-core`` command.

Each subcommand lives in its own module under ``activity_core.commands`` and registers its
parser there; this module only assembles them. Exit codes: 0 success, 1 the thing checked
failed (a failed run, an unmet gate), 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from activity_core.commands import COMMAND_MODULES

DESCRIPTION = """\
activity-core: the durable task factory behind the daily State Hub WSJF triage.

Every day at 07:20 Europe/Berlin a Temporal schedule runs the triage: read State Hub,
ask llm-connect for a ranked WSJF report, pass it through the item-framed boundary
parser (one bad item costs one item), record the run in PostgreSQL, and post the
daily_triage progress event and working-memory note back to State Hub.
"""

EPILOG = """\
first steps:
  activity-core run                      one triage run on the embedded local stack
  activity-core definitions check        validate definitions/*.yaml
  activity-core replay-output --help     re-run the boundary on a captured answer

Configuration comes from the environment; see the README for every variable.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="activity-core",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
