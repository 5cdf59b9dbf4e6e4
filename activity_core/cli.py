"""The ``activity-core`` command.

Each subcommand lives in its own module under ``activity_core.commands`` and registers its
parser there; this module assembles them and is the one path every failure leaves by: the
settings are validated before any command runs, and whatever a command raises becomes one
line on stderr (``activity-core <command>: <problem>; <fix>``, secrets blanked) and an exit
code from ``activity_core.commands.errors.ExitCode``. A traceback is printed only for a bug,
and only with ``ACTIVITY_CORE_LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Sequence

from activity_core.commands import COMMAND_MODULES
from activity_core.commands.errors import ExitCode, as_command_error
from activity_core.settings import load_settings

DESCRIPTION = """\
activity-core: the durable task factory. Definitions (YAML in definitions/) of several
kinds are fired by Temporal schedules, and every run leaves exact evidence: a row in
PostgreSQL and a State Hub progress event (and, for instructions, a working-memory note).

Kinds: instruction (State Hub context -> llm-connect -> the item-framed trust boundary,
where one bad item costs one item), trigger (another team's worker command, run durably),
probe (the ops inventory targets). The headline definition is the daily State Hub triage,
fired every day at 07:20 Europe/Berlin.
"""

EPILOG = """\
first steps:
  activity-core run                      one triage run on the embedded local stack
  activity-core definitions check        validate definitions/*.yaml
  activity-core replay-output --help     re-run the boundary on a captured answer

Configuration comes from the environment; see the README for every variable.
exit codes: 0 ok, 1 failed (a run, a gate, a check), 2 usage or configuration,
  3 a service unavailable, 4 a file problem, 70 a bug, 130 interrupted
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
        return ExitCode.USAGE
    name = command_name(args)
    secrets: Iterable[str] = ()
    debug = False
    try:
        settings = load_settings()
        secrets, debug = settings.secret_values(), settings.log_level == "DEBUG"
        args.settings = settings
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        # What the interrupt abandoned (a connection half made) may still fail as it is collected;
        # asyncio would log each as "exception was never retrieved": not news after a Ctrl-C.
        logging.getLogger("asyncio").disabled = True
        _report(name, "interrupted before it finished", secrets)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): what it wanted it has; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        error = as_command_error(exc)
        if error is not None:
            _report(name, str(error), secrets)
            return error.exit_code
        if debug:
            traceback.print_exc()
        _report(
            name,
            f"unexpected {type(exc).__name__}: {exc}; this is a bug in activity-core, please report it "
            "(ACTIVITY_CORE_LOG_LEVEL=DEBUG prints the traceback)",
            secrets,
        )
        return ExitCode.BUG


def command_name(args: argparse.Namespace) -> str:
    """``runs show`` for ``activity-core runs show ...``: what the error line starts with."""
    action = getattr(args, f"{args.command.replace('-', '_')}_command", None)
    return f"{args.command} {action}" if action else args.command


def _report(name: str, message: str, secrets: Iterable[str]) -> None:
    for secret in secrets:
        message = message.replace(secret, "***")
    print(f"activity-core {name}: {' '.join(message.split())}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
