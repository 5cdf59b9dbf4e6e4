"""The probe's definition section and its judgement of a run: pure, no servers."""

from __future__ import annotations

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from activity_core.kinds.probe.models import ProbePlan, ProbeReport, TargetReport
from activity_core.kinds.probe.outcome import outcome_of
from activity_core.kinds.probe.spec import ProbeTargets
from tests.probe.conftest import SHIPPED_DEFINITION

TARGETS = TypeAdapter(ProbeTargets)


def test_the_shipped_probe_checks_every_dependency_hourly() -> None:
    data = yaml.safe_load(SHIPPED_DEFINITION.read_text())
    assert (data["id"], data["kind"], data["enabled"]) == ("ops-inventory-probe", "probe", True)
    assert data["schedule"]["every_seconds"] == 3600 and data["schedule"]["overlap"] == "skip"
    assert data["evidence"]["progress_event_type"] == "ops_inventory_probe"
    targets = TARGETS.validate_python(data["targets"])
    assert {t.check for t in targets} == {
        "llm_connect_health",
        "llm_connect_smoke",
        "state_hub_health",
        "issue_core_health",
        "temporal_frontend",
        "postgres",
    }
    assert [t.name for t in targets if t.optional] == ["issue-core"]
    slowest = max(t.timeout_seconds for t in targets)
    assert slowest >= 300  # the deep check fits llm-connect's 300 s call budget
    assert data["schedule"]["execution_timeout_seconds"] > slowest + data["evidence"]["state_hub_retry_total_seconds"]


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        ([], "at least 1 item"),
        ([{"name": "a", "check": "postgres", "timeout_seconds": 1}] * 2, "repeated: a"),
        ([{"name": "a", "check": "redis", "timeout_seconds": 1}], "Input should be"),
        ([{"name": "a", "check": "postgres", "timeout_seconds": 0}], "greater than 0"),
        ([{"name": "A b", "check": "postgres", "timeout_seconds": 1}], "should match pattern"),
    ],
)
def test_broken_targets_are_refused(targets: list, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        TARGETS.validate_python(targets)


def _target(name: str, status: str, error: str | None = None) -> TargetReport:
    return TargetReport(name=name, check="postgres", status=status, latency_ms=3, error=error)


def test_a_target_down_makes_the_run_partial_and_is_named() -> None:
    report = ProbeReport([_target("a", "up"), _target("pg", "down", "refused"), _target("ic", "skipped", "n/a")])
    outcome = outcome_of(ProbePlan("ops-inventory-probe", []), report)
    assert outcome.status == "partial" and outcome.error_message == "down: pg"
    assert outcome.summary == "ops inventory probe: 1 up, 1 down, 1 skipped (pg: refused)"
    assert (outcome.payload["up"], outcome.payload["down"], outcome.payload["skipped"]) == (["a"], ["pg"], ["ic"])
    assert outcome.result is report


def test_only_skipped_and_up_targets_is_clean() -> None:
    outcome = outcome_of(ProbePlan("p", []), ProbeReport([_target("a", "up"), _target("b", "skipped")]))
    assert outcome.status == "clean" and outcome.error_message is None and outcome.payload["failure_class"] is None
