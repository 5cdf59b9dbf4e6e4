"""What a run says about its task specs, without a server: the row's summary as the
calibration gate reads it, the progress event and note built from it, the step's counts,
and the room a tasks block needs in a definition's execution timeout."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from activity_core.kinds.instruction.definition import InstructionDefinition
from activity_core.kinds.instruction.evidence import note, progress
from activity_core.kinds.instruction.models import TaskEmission
from activity_core.runs.models import KindOutcome
from activity_core.settings import PROJECT_ROOT
from activity_core.tasks.emission import RESULT_KEY, EmissionSummary, EmittedTask, unsettled
from activity_core.tasks.spec import SpawnState
from tests.history.factories import make_run, triage_definition

KEY = "ac1:daily-statehub-wsjf-triage:ws-1:0123456789abcdef:e1"


def task(state: str, rank: int | None, **fields: Any) -> EmittedTask:
    values: dict[str, Any] = {
        "state": state,
        "candidate": f"ws-{rank}" if rank else "recommendations[4]",
        "rank": rank,
        "idempotency_key": KEY.replace("ws-1", f"ws-{rank}") if rank else None,
        "ref": None,
        "url": None,
        "review_required": True,
    }
    return EmittedTask(**(values | fields))


def summary(tasks: list[EmittedTask], *, sink: str = "rest", pending: int = 0) -> EmissionSummary:
    counts = {state.value: sum(1 for t in tasks if t.state == state.value) for state in SpawnState}
    return EmissionSummary("daily-statehub-wsjf-triage", "wf", "run-1", sink, counts, pending, tasks)


def row_result(emission: EmissionSummary) -> dict[str, Any]:
    return {RESULT_KEY: emission.evidence()}


MIXED = summary(
    [
        task("created", 1, ref="ISSUE-1", url="https://issue-core.local/tasks/ISSUE-1"),
        task("duplicate", 2, ref="ISSUE-7", url="https://issue-core.local/tasks/ISSUE-7"),
        task("failed", 3, error="issue-core POST /api/tasks answered 422: validation_error: labels | too long"),
        task("not_emitted", None, reason="unknown_reference"),
    ]
)


def test_the_gate_reads_a_settled_emission_as_clean_and_names_every_other() -> None:
    assert unsettled(None) is None and unsettled({}) is None
    assert unsettled(row_result(summary([task("created", 1, ref="ISSUE-1")]))) is None
    assert unsettled(row_result(summary([task("planned", 1)], sink="null"))) is None
    assert unsettled(row_result(MIXED)) == "task specs 1 failed"
    unknown = summary([task("unknown", 1), task("planned", 2), task("failed", 3)], pending=2)
    assert unsettled(row_result(unknown)) == "task specs 1 failed, 1 unknown, 1 unsent"


def test_the_event_and_the_note_say_how_many_specs_became_what_with_their_references() -> None:
    definition = triage_definition()
    record = make_run(date(2026, 6, 26), result=row_result(MIXED), items_kept=3)
    draft = progress(definition, record, KindOutcome(status="clean"))
    assert draft.summary.endswith(
        "3 item(s) kept, 0 quarantined; 3 task spec(s) (rest sink): 1 created, 1 duplicate, 1 failed, 1 not_emitted"
    )
    payload = draft.payload["tasks"]
    assert payload["specs"] == 3 and payload["counts"]["created"] == 1 and payload["counts"]["failed"] == 1
    assert [(t["state"], t["ref"]) for t in payload["tasks"]] == [
        ("created", "ISSUE-1"), ("duplicate", "ISSUE-7"), ("failed", None), ("not_emitted", None),
    ]  # fmt: skip

    body = note(definition, record, KindOutcome(status="clean")).body_markdown
    assert (
        "## Task specs" in body
        and "3 task spec(s) (rest sink): 1 created, 1 duplicate, 1 failed, 1 not_emitted." in body
    )
    assert "| 1 | created | `ws-1` | [ISSUE-1](https://issue-core.local/tasks/ISSUE-1) |" in body
    assert "422: validation_error: labels \\| too long |" in body  # a cell stays one cell
    assert "| - | not_emitted | `recommendations[4]` | - | unknown_reference |" in body


def test_a_run_that_proposed_no_tasks_says_nothing_about_tasks() -> None:
    definition = triage_definition()
    record = make_run(date(2026, 6, 26))
    assert progress(definition, record, KindOutcome(status="clean")).payload["tasks"] is None
    assert "Task specs" not in note(definition, record, KindOutcome(status="clean")).body_markdown


def test_the_step_reports_its_counts_in_one_line() -> None:
    assert TaskEmission(sink="rest", created=2, failed=1).describe() == "tasks (rest): 2 created, 1 failed"
    assert TaskEmission(sink="rest", unknown=1, pending=1).describe() == "tasks (rest): 1 unknown, 1 unsettled"
    assert TaskEmission(sink="null").describe() == "tasks (null): none"


def test_a_tasks_block_needs_its_emission_budget_inside_the_execution_timeout() -> None:
    data = yaml.safe_load((PROJECT_ROOT / "definitions" / "daily-statehub-wsjf-triage.yaml").read_text())
    # llm 900 s x 2 + State Hub 900 s x 3 = 4500 s, plus 600 s of bookkeeping; emission adds 900 s
    data["schedule"]["execution_timeout_seconds"] = 5500
    assert InstructionDefinition.model_validate({k: v for k, v in data.items() if k != "tasks"}).tasks is None
    with pytest.raises(ValidationError, match=r"5400 s: .* \+ 900 s of task emission\) plus 600 s"):
        InstructionDefinition.model_validate(data)
    data["schedule"]["execution_timeout_seconds"] = 7200
    assert InstructionDefinition.model_validate(data).tasks is not None
