"""The instruction kind's figures for the calibration gate, over a window's scheduled runs. Pure.

How often the boundary had to step in (quarantine, repair, truncation), how close the answers
come to ``llm.max_tokens`` and the llm-connect calls to their budget, and how stable the ranking
is from one run to the next: the overlap of the top three and Kendall's tau over the items two
consecutive rankings share.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from itertools import combinations, pairwise
from typing import Any

from activity_core.calibration.figures import Figure, median, percent, rate, seconds
from activity_core.store.models import RunRecord

TOP = 3


def ranking(run: RunRecord) -> list[str]:
    """The run's items by rank, named by their candidate reference (or title)."""
    items = sorted(run.items or [], key=lambda item: item.get("rank") or 0)
    return [str(item.get("candidate") or item.get("title")) for item in items]


def top_overlap(a: Sequence[str], b: Sequence[str], top: int = TOP) -> float | None:
    """Share of the first ranking's top ``top`` that is also in the second's (None: nothing to compare)."""
    head = set(a[:top])
    if not head or not b:
        return None
    return len(head & set(b[:top])) / min(top, len(head))


def kendall_tau(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Kendall's tau-a between two rankings over the items both hold (None: fewer than two shared)."""
    shared = [item for item in a if item in set(b)]
    if len(shared) < 2:
        return None
    position = {item: index for index, item in enumerate(b)}
    concordant = sum(1 if position[x] < position[y] else -1 for x, y in combinations(shared, 2))
    return concordant / (len(shared) * (len(shared) - 1) / 2)


def _completion_tokens(run: RunRecord) -> int | None:
    usage: dict[str, Any] = run.llm_usage or {}
    value = usage.get("completion_tokens")
    return int(value) if isinstance(value, (int, float)) else None


def instruction_figures(definition: Any, runs: Sequence[RunRecord]) -> list[Figure]:
    """``runs``: the window's finished on-time scheduled runs, oldest first."""
    kept = sum(run.items_kept or 0 for run in runs)
    quarantined = sum(run.items_quarantined or 0 for run in runs)
    repaired = sum(int((run.counts or {}).get("repaired") or 0) for run in runs)
    truncated = sum(1 for run in runs if run.truncated)
    tokens = [t for t in map(_completion_tokens, runs) if t is not None]
    max_tokens = definition.llm.max_tokens
    latencies = [run.llm_latency_ms / 1000 for run in runs if run.llm_latency_ms is not None]
    budget = float(definition.llm.call_timeout_seconds)
    attempts = [run.llm_attempts for run in runs if run.llm_attempts is not None]
    rankings = [ranking(run) for run in runs if run.items]
    overlaps = [o for a, b in pairwise(rankings) if (o := top_overlap(a, b)) is not None]
    taus = [t for a, b in pairwise(rankings) if (t := kendall_tau(a, b)) is not None]
    worst_tokens = max(tokens, default=None)
    worst_latency = max(latencies, default=None)
    return [
        Figure(
            "quarantine_rate",
            "quarantine rate",
            rate(quarantined, kept + quarantined),
            f"{quarantined} of {kept + quarantined} items ({percent(rate(quarantined, kept + quarantined), 1)})",
        ),
        Figure(
            "repair_rate",
            "repair rate",
            rate(repaired, kept),
            f"{repaired} of {kept} kept items ({percent(rate(repaired, kept), 1)})",
            "accepted only after the repair pass",
        ),
        Figure(
            "truncation_rate",
            "truncation rate",
            rate(truncated, len(runs)),
            f"{truncated} of {len(runs)} runs ({percent(rate(truncated, len(runs)))})",
        ),
        Figure(
            "completion_tokens_worst",
            "completion tokens, worst",
            None if worst_tokens is None else float(worst_tokens),
            "n/a"
            if worst_tokens is None
            else f"{worst_tokens} of {max_tokens} max_tokens (headroom {percent(1 - worst_tokens / max_tokens)})",
            f"median {median(tokens) if tokens else 'n/a'}",
        ),
        Figure(
            "llm_latency_worst_s",
            "llm-connect latency, worst",
            worst_latency,
            "n/a"
            if worst_latency is None
            else f"{seconds(worst_latency)} of the {seconds(budget)} budget ({percent(worst_latency / budget)})",
            f"median {seconds(median(latencies))}",
        ),
        Figure(
            "llm_attempts_mean",
            "llm-connect attempts, mean",
            statistics.fmean(attempts) if attempts else None,
            "n/a" if not attempts else f"{statistics.fmean(attempts):.2f} (worst {max(attempts)})",
        ),
        Figure(
            "top3_overlap_mean",
            "top-3 overlap, run to run",
            statistics.fmean(overlaps) if overlaps else None,
            "n/a" if not overlaps else f"{percent(statistics.fmean(overlaps))} (lowest {percent(min(overlaps))})",
            f"over {len(overlaps)} consecutive pair(s)",
        ),
        Figure(
            "kendall_tau_mean",
            "Kendall's tau, run to run",
            statistics.fmean(taus) if taus else None,
            "n/a" if not taus else f"{statistics.fmean(taus):.2f} (lowest {min(taus):.2f})",
            "over the items both rankings hold; 1 is the same order",
        ),
    ]
