"""``activity-core report --html FILE``: the calibration report a reviewer opens in a browser."""

from __future__ import annotations

import argparse
from pathlib import Path

from activity_core.calibration.html import ReportData, render_html
from activity_core.calibration.report import build_report
from activity_core.commands.calibration import add_at_argument, over_evidence
from activity_core.commands.errors import file_problem
from activity_core.commands.run import DEFAULT_DEFINITION
from activity_core.commands.runs import bounded_int
from activity_core.definitions.base import DefinitionBase


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the calibration report as one static HTML file",
        description="Write a self-contained HTML page (no scripts, no network at view time): the\n"
        "calibration gate and its checklist, a timeline of the last N ticks coloured by the gate's\n"
        "verdict with the failure class, missing evidence or missed-tick reason in each cell, the\n"
        "schedule's pause state, the gate's figures, start lags, reviewers' verdicts, versions, and\n"
        "the latest ranked report. Needs DATABASE_URL, TEMPORAL_ADDRESS and STATE_HUB_URL,\n"
        "like `calibration status`.",
        epilog="example: activity-core report --html triage.html --days 30\n"
        "Exit codes: 0 written (whatever the gate says), 1 nothing to report, 2 configuration,\n"
        "3 PostgreSQL or State Hub unavailable, 4 the file could not be written.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--html", required=True, type=Path, metavar="FILE", help="where to write the page")
    parser.add_argument(
        "--definition", default=DEFAULT_DEFINITION, help=f"definition id (default: {DEFAULT_DEFINITION})"
    )
    parser.add_argument(
        "--days",
        type=bounded_int(1, 366),
        default=30,
        metavar="N",
        help="ticks in the timeline and figures (default 30)",
    )
    add_at_argument(parser)
    parser.set_defaults(handler=handle_report)


def handle_report(args: argparse.Namespace) -> int:
    async def gather(history, feedback, temporal, state_hub, definition, now) -> ReportData:
        return await build_report(history, feedback, temporal, state_hub, definition, days=args.days, now=now)

    def emit(data: ReportData, definition: DefinitionBase) -> int:
        try:
            args.html.write_text(render_html(data), encoding="utf-8")
        except OSError as exc:
            raise file_problem(exc, "cannot write") from None
        gate = data.gate
        print(
            f"wrote {args.html}: calibration gate {'MET' if gate.met else 'NOT MET'} (streak {gate.streak} of {gate.required})"
        )
        return 0

    return over_evidence(args.settings, args.definition, gather, emit, at=args.at)
