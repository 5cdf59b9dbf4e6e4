"""The gate's numbers and the instruction kind's: pure functions over runs, no server."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activity_core.calibration.figures import gate_figures, wilson_lower_bound
from activity_core.kinds.instruction.figures import instruction_figures, kendall_tau, ranking, top_overlap
from activity_core.kinds.registry import KINDS
from tests.history.factories import make_run, triage_definition


def test_wilson_lower_bounds_the_reviewers_ask_about() -> None:
    assert wilson_lower_bound(3, 3) == pytest.approx(0.4385, abs=1e-4)
    assert wilson_lower_bound(14, 14) == pytest.approx(0.7847, abs=1e-4)
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(0, 10) == 0.0
    assert wilson_lower_bound(27, 30) == pytest.approx(0.7438, abs=1e-4)
    with pytest.raises(ValueError, match="between 0 and trials"):
        wilson_lower_bound(4, 3)


@given(st.integers(min_value=1, max_value=500), st.data())
def test_the_lower_bound_lies_below_the_rate_and_grows_with_evidence(trials: int, data: st.DataObject) -> None:
    successes = data.draw(st.integers(min_value=0, max_value=trials))
    lower = wilson_lower_bound(successes, trials)
    assert 0.0 <= lower <= successes / trials
    if successes == trials:  # one more clean run always proves more
        assert wilson_lower_bound(successes + 1, trials + 1) > lower


def test_gate_figures_name_rate_bound_lag_and_missed() -> None:
    figures = {f.key: f for f in gate_figures(decided=14, clean=14, lags=[0.1, 0.3, 2.0], missed=0)}
    assert figures["clean_rate"].shown == "14 of 14 (100 %)"
    assert figures["clean_rate_wilson_lower_95"].shown == "≥ 0.78"
    assert figures["start_lag_median_s"].value == 0.3 and figures["start_lag_worst_s"].value == 2.0
    assert figures["start_lag_median_s"].shown == "300 ms" and figures["start_lag_worst_s"].shown == "2.0 s"
    assert figures["missed_ticks"].value == 0
    empty = {f.key: f for f in gate_figures(decided=0, clean=0, lags=[], missed=0)}
    assert empty["clean_rate"].value is None and empty["clean_rate_wilson_lower_95"].shown == "n/a"


def test_kendall_tau_and_top_overlap() -> None:
    assert kendall_tau(list("abcd"), list("abcd")) == 1.0
    assert kendall_tau(list("abcd"), list("dcba")) == -1.0
    assert kendall_tau(list("abcd"), list("bacd")) == pytest.approx(4 / 6)
    assert kendall_tau(list("abx"), list("bay")) == -1.0  # only a and b are shared
    assert kendall_tau(list("ab"), list("cd")) is None
    assert top_overlap(list("abcde"), list("cbazz")) == 1.0
    assert top_overlap(list("abcde"), list("xyzab")) == 0.0
    assert top_overlap([], list("abc")) is None


def _items(*refs: str) -> list[dict]:
    return [{"rank": rank, "candidate": ref} for rank, ref in enumerate(refs, start=1)]


def test_instruction_figures_over_a_window() -> None:
    day = date(2026, 7, 1)
    runs = [
        make_run(
            day,
            id=1,
            items=_items("a", "b", "c", "d"),
            items_kept=4,
            items_quarantined=0,
            llm_usage={"completion_tokens": 1000},
            llm_latency_ms=20_000,
            llm_attempts=1,
            counts={"repaired": 1},
        ),
        make_run(
            day + timedelta(days=1),
            id=2,
            items=_items("b", "a", "c", "e"),
            items_kept=4,
            items_quarantined=1,
            llm_usage={"completion_tokens": 3000},
            llm_latency_ms=60_000,
            llm_attempts=2,
            truncated=True,
        ),
        make_run(
            day + timedelta(days=2),
            id=3,
            items=_items("b", "a", "c", "e"),
            items_kept=4,
            items_quarantined=0,
            llm_usage={"completion_tokens": 2000},
            llm_latency_ms=30_000,
            llm_attempts=1,
        ),
    ]
    assert ranking(runs[1]) == ["b", "a", "c", "e"]
    figures = {f.key: f for f in instruction_figures(triage_definition(), runs)}
    max_tokens = triage_definition().llm.max_tokens
    assert figures["quarantine_rate"].value == pytest.approx(1 / 13)
    assert figures["repair_rate"].value == pytest.approx(1 / 12)
    assert figures["truncation_rate"].value == pytest.approx(1 / 3)
    assert (
        figures["completion_tokens_worst"].value == 3000
        and f"3000 of {max_tokens} max_tokens" in figures["completion_tokens_worst"].shown
    )
    assert (
        figures["llm_latency_worst_s"].value == 60.0
        and "of the 5.0 min budget (20 %)" in figures["llm_latency_worst_s"].shown
    )
    assert figures["llm_attempts_mean"].value == pytest.approx(4 / 3)
    assert figures["top3_overlap_mean"].value == 1.0
    assert figures["kendall_tau_mean"].value == pytest.approx(
        (1 / 3 + 1.0) / 2
    )  # a, b, c shared: one of three pairs swapped


def test_the_instruction_kind_registers_its_figures() -> None:
    assert KINDS["instruction"].figures is instruction_figures
    assert {f.value for f in instruction_figures(triage_definition(), [])} == {None}
