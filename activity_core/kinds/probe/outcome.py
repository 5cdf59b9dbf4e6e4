"""From the targets' reports to the run's status and its ``ops_inventory_probe`` evidence. Pure.

A target down makes the run ``partial`` and is named in the error message, the summary and
the payload; a skipped (optional, unconfigured) target does not. The payload is what
ACTIVITY-WP-0009 T04 reads as the live evidence of the ops inventory.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from activity_core.kinds.probe.models import ProbeOutcome, ProbePlan, ProbeReport, ProbeStatus, TargetState

_SUMMARY_CHARS = 1000


def outcome_of(plan: ProbePlan, report: ProbeReport) -> ProbeOutcome:
    down, up, skipped = (report.named(state) for state in (TargetState.DOWN, TargetState.UP, TargetState.SKIPPED))
    status = ProbeStatus.PARTIAL if down else ProbeStatus.CLEAN
    message = f"down: {', '.join(down)}" if down else None
    summary = f"ops inventory probe: {len(up)} up, {len(down)} down, {len(skipped)} skipped"
    if down:
        reasons = "; ".join(f"{t.name}: {t.error}" for t in report.targets if t.status == TargetState.DOWN.value)
        summary += f" ({reasons})"
    payload: dict[str, Any] = {
        "definition_id": plan.definition_id,
        "status": status.value,
        "failure_class": None,
        "error_message": message,
        "up": up,
        "down": down,
        "skipped": skipped,
        "targets": [asdict(target) for target in report.targets],
    }
    return ProbeOutcome(status.value, message, _bounded(summary), payload, report)


def _bounded(text: str) -> str:
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 3] + "..."
