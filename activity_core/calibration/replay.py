"""Would today's boundary judge the kept answers the same? A regression check for parser and
output-contract changes.

Each run keeps its judged model answer (``raw_content``) and the reference allow-list it was
judged against (``known_refs``); replaying runs them through ``parse_report`` with the
definition's output contract as it stands now and compares what comes out with what the row
recorded: framing, truncation, the kept items in their order, the quarantine reasons, the
counts. ``compare`` is pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from activity_core.boundary import parse_report
from activity_core.kinds.instruction.item_models import report_spec
from activity_core.store.models import RunRecord


@dataclass(frozen=True)
class Replayed:
    run: RunRecord
    differences: tuple[str, ...]
    """Empty: today's boundary would record the same; else one line per difference."""
    skipped: str | None = None
    """Why the run could not be replayed (no answer kept: pruned, or failed before the model)."""

    @property
    def differs(self) -> bool:
        return bool(self.differences)


def _refs(items: Sequence[dict[str, Any]]) -> list[str]:
    return [str(item.get("candidate")) for item in items]


def _reasons(quarantined: Sequence[dict[str, Any]]) -> Counter[str]:
    return Counter(str(entry.get("reason")) for entry in quarantined)


def compare(run: RunRecord, result: dict[str, Any]) -> tuple[str, ...]:
    """How a fresh ``BoundaryResult.to_dict()`` differs from what the row recorded."""
    differences = []
    if result["framing"] != run.framing:
        differences.append(f"framing {run.framing} → {result['framing']}")
    if result["truncated"] != bool(run.truncated):
        differences.append(f"truncated {bool(run.truncated)} → {result['truncated']}")
    kept, now_kept = run.items or [], result["items"]
    if _refs(kept) != _refs(now_kept):
        differences.append(
            f"kept items {len(kept)} → {len(now_kept)}"
            + (" (same items, another order)" if sorted(_refs(kept)) == sorted(_refs(now_kept)) else "")
        )
    elif kept != now_kept:
        fields = sorted(
            {k for a, b in zip(kept, now_kept, strict=True) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        )
        differences.append(f"kept items changed in {', '.join(fields)}")
    before, after = _reasons(run.quarantined or []), _reasons(result["quarantined"])
    if before != after:
        change = ", ".join(
            f"{reason} {before[reason]} → {after[reason]}"
            for reason in sorted(before | after)
            if before[reason] != after[reason]
        )
        differences.append(f"quarantine {change}")
    counts = {k: v for k, v in result["counts"].items() if (run.counts or {}).get(k) != v}
    if counts and not differences:
        differences.append(
            "counts " + ", ".join(f"{k} {(run.counts or {}).get(k)} → {v}" for k, v in sorted(counts.items()))
        )
    return tuple(differences)


def replay_run(definition: Any, run: RunRecord) -> Replayed:
    """Judge the run's kept answer again under ``definition``'s output contract as it is now."""
    contract = getattr(definition, "output", None)
    if contract is None:
        return Replayed(run, (), skipped=f"kind {definition.kind!r} keeps no model answer to judge")
    if run.raw_content is None:
        return Replayed(run, (), skipped="no answer kept (pruned, or the run failed before the model answered)")
    result = parse_report(
        run.raw_content,
        contract=contract,
        spec=report_spec(contract),
        known_refs=run.known_refs or [],
        finish_reason=run.llm_finish_reason,
    ).to_dict()
    return Replayed(run, compare(run, result))
