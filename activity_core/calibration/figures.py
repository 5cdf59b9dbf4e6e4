"""The gate with numbers: what three of three (or fourteen of fourteen) actually proves. Pure.

Over the window of a definition's last N ticks the gate reports the clean rate with its
Wilson 95 % lower bound (three clean of three bound the rate only at >= 0.44; fourteen of
fourteen at >= 0.78), the start lag of its scheduled runs (median, worst) and the missed ticks.
Each kind adds figures of its own (``Kind.figures``), computed from the same runs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054
"""The two-sided 95 % quantile of the standard normal distribution."""


@dataclass(frozen=True)
class Figure:
    """One number a reviewer reads: ``value`` for machines (None: no data), ``shown`` for people."""

    key: str
    label: str
    value: float | None
    shown: str
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "value": self.value, "shown": self.shown, "detail": self.detail}


def wilson_lower_bound(successes: int, trials: int, z: float = Z_95) -> float:
    """The lower end of the Wilson score interval for a proportion (0 for no trials)."""
    if trials <= 0:
        return 0.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes ({successes}) must lie between 0 and trials ({trials})")
    if successes == 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f} %"


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def gate_figures(*, decided: int, clean: int, lags: Sequence[float], missed: int) -> list[Figure]:
    """The gate's own figures over the decided ticks of its window."""
    lower = wilson_lower_bound(clean, decided)
    return [
        Figure(
            "clean_rate",
            "clean rate",
            rate(clean, decided),
            f"{clean} of {decided} ({percent(rate(clean, decided))})",
            "ticks whose scheduled run was clean with all its evidence",
        ),
        Figure(
            "clean_rate_wilson_lower_95",
            "clean rate, 95 % lower bound",
            lower if decided else None,
            f"≥ {lower:.2f}" if decided else "n/a",
            "Wilson score interval: the rate the window proves at least",
        ),
        Figure(
            "start_lag_median_s",
            "start lag, median",
            median(lags),
            seconds(median(lags)),
            "scheduled runs, tick to start",
        ),
        Figure("start_lag_worst_s", "start lag, worst", max(lags, default=None), seconds(max(lags, default=None))),
        Figure("missed_ticks", "missed ticks", float(missed), str(missed), "no run, or only a late one"),
    ]
