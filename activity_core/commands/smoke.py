"""``activity-core smoke llm-connect``: the deep check of llm-connect, once, from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid

from activity_core.clients.llm_connect import LlmConnectClient
from activity_core.definitions.loader import DefinitionError, DefinitionNotFound
from activity_core.kinds.probe.llm_smoke import SmokeReport, run_llm_smoke, triage_smoke_request
from activity_core.observability.logging import redact, register_settings_secrets
from activity_core.settings import Settings

EPILOG = """\
examples:
  LLM_CONNECT_URL=http://localhost:8080 activity-core smoke llm-connect
  kubectl -n activity-core exec deploy/activity-core-worker -- activity-core smoke llm-connect --json

It sends the daily triage's own RunConfig (the headline instruction definition)
around a fixed fixture planning state, never live State Hub data, and runs the boundary on
the answer. A failure is named as one of: transport, timeout, provider, configuration,
answer_shape. No prompt, header or token is ever printed.

Exit code: 0 pass, 1 fail, 2 a usage or configuration error (no LLM_CONNECT_URL, a broken
triage definition).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "smoke",
        help="smoke-test a dependency the way a run uses it",
        description="Smoke-test a dependency the way a run uses it.",
    )
    targets = parser.add_subparsers(dest="smoke_target", metavar="TARGET", required=True)
    llm = targets.add_parser(
        "llm-connect",
        help="health, one fixture triage request, the boundary on its answer",
        description=(
            "Check llm-connect at LLM_CONNECT_URL as the daily triage uses it: GET /health, then POST /execute "
            "with the triage's RunConfig and a fixture prompt, then the item-framed boundary on the answer. "
            "Reports health, latency against LLM_CONNECT_TIMEOUT_SECONDS, and what failed."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    llm.add_argument("--json", action="store_true", help="print the report as one JSON object")
    llm.set_defaults(handler=smoke_llm_connect)


def smoke_llm_connect(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.llm_connect_url:
        print("activity-core smoke llm-connect: set LLM_CONNECT_URL to the llm-connect to check", file=sys.stderr)
        return 2
    register_settings_secrets(settings)
    try:
        request = triage_smoke_request(settings.definitions_dir, budget_seconds=settings.llm_connect_timeout_seconds)
    except (DefinitionError, DefinitionNotFound) as exc:
        print(f"activity-core smoke llm-connect: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(_smoke(settings, request))
    if args.json:
        print(
            json.dumps({"target": "llm-connect", "url": settings.llm_connect_url, **report.to_dict()}, sort_keys=True)
        )
    else:
        print(render(settings.llm_connect_url, report))
    return 0 if report.passed else 1


async def _smoke(settings: Settings, request) -> SmokeReport:
    async with LlmConnectClient(
        settings.llm_connect_url or "", timeout_seconds=settings.llm_connect_timeout_seconds
    ) as llm:
        return await run_llm_smoke(llm, request, request_id=f"smoke/{uuid.uuid4()}", scrub=redact)


def render(url: str, report: SmokeReport) -> str:
    lines = [f"llm-connect smoke against {url}: {'PASS' if report.passed else 'FAIL'}"]
    lines.append(f"  health    {report.health}" + (f" ({report.health_ms} ms)" if report.health_ms is not None else ""))
    if report.latency_ms is not None:
        used = f" ({report.budget_used:.1%} of the {report.budget_seconds:g} s budget)" if report.budget_used else ""
        lines.append(
            f"  execute   answered in {report.latency_ms / 1000:.2f} s{used}; model {report.model}, "
            f"finish_reason {report.finish_reason}"
        )
    if report.boundary_status is not None:
        lines.append(
            f"  boundary  {report.boundary_status}: {report.items_kept} kept, {report.items_quarantined} quarantined"
            + (
                f" ({', '.join(f'{k} x{v}' for k, v in report.quarantine_reasons.items())})"
                if report.quarantine_reasons
                else ""
            )
        )
    if not report.passed:
        lines.append(f"  failed    {report.failure}: {report.error}")
    return "\n".join(lines)
