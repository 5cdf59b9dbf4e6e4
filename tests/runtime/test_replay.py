"""Workflow determinism: every recorded history replays against the workflows the worker registers.

`tests/histories/*.json` are histories of real runs. They are only ever added: a change to
workflow code that cannot replay them would break the runs in flight at a deploy, which is
what this test exists to catch (docs/adr/adr-007-deploying-workflow-changes.md). Each release
that changes workflow code adds the histories of its own scenarios:

    RECORD_HISTORIES=1 pytest tests/runtime/test_replay.py

writes the histories of `SCENARIOS` that are missing and never overwrites one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from activity_core.kinds.registry import registered_workflows
from activity_core.settings import PROJECT_ROOT
from tests.fixtures.runtime import TriageHarness, harness_for, write_test_definition

pytestmark = pytest.mark.integration
HISTORIES = Path(__file__).parent.parent / "histories"
# Recorded from the superseded InstructionWorkflow (release 0.1); they must keep replaying.
FROZEN = {"clean", "reask-then-partial", "failed-config"}
# InstructionRun's scenarios: faults queued on an emulator's route before a manual run.
SCENARIOS: dict[str, list[tuple[str, str, list[str]]]] = {
    "instruction-run-clean": [],
    "instruction-run-reask-then-partial": [("llm_connect", "execute", ["garbage", "malformed_item"])],
    "instruction-run-failed-config": [("llm_connect", "execute", ["configuration_error"])],
    "instruction-run-state-hub-down": [("state_hub", "workstreams", ["http_503"] * 40)],
    "instruction-run-llm-budget-spent": [("llm_connect", "execute", ["http_503"] * 4)],
    "instruction-run-missing-evidence": [("state_hub", "notes", ["http_503"] * 40)],
}
# InstructionRun with a tasks block (issue 9, behind workflow.patched("emit-tasks")): the
# deployment's ISSUE_SINK_TYPE and the faults queued on issue-core's create.
TASK_SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "instruction-run-tasks-null": ("null", []),
    "instruction-run-tasks-rest": ("rest", []),
    "instruction-run-tasks-rest-unknown-then-created": ("rest", ["apply_then_500"]),
    "instruction-run-tasks-rest-failed": ("rest", ["validation_error"]),
}
# A State Hub that stays down spends the step's whole retry budget: keep it short here.
SHORT_STATE_HUB_BUDGET = {"evidence": {"state_hub_retry_total_seconds": 3, "retry_initial_seconds": 0.2}}


def _recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_every_scenario_has_a_recorded_history() -> None:
    missing = (FROZEN | set(SCENARIOS) | set(TASK_SCENARIOS)) - {p.stem for p in _recorded()}
    assert not missing, f"record them: RECORD_HISTORIES=1 pytest tests/runtime/test_replay.py ({sorted(missing)})"


@pytest.mark.parametrize("path", _recorded(), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=registered_workflows())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


def _without_machine_paths(text: str) -> str:
    """Stack traces name files by absolute path; a history keeps them relative to the repo."""
    return text.replace(str(PROJECT_ROOT) + "/", "").replace(str(PROJECT_ROOT), ".")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_fresh_history_replays(triage: TriageHarness, scenario: str) -> None:
    write_test_definition(triage.settings.definitions_dir, triage.definition_id, SHORT_STATE_HUB_BUDGET)
    for emulator, route, faults in SCENARIOS[scenario]:
        getattr(triage, emulator).queue_faults(route, *faults)
    _, handle = await triage.run_manual()
    await _replay_and_record(handle, scenario)


@pytest.mark.parametrize("scenario", sorted(TASK_SCENARIOS))
async def test_fresh_task_history_replays(
    temporal_client, make_settings, definition_id: str, state_hub, llm_connect, issue_core, scenario: str
) -> None:
    ceiling, faults = TASK_SCENARIOS[scenario]
    settings = make_settings({"tasks": {"sink": "rest"}}, issue_sink_type=ceiling)
    async with harness_for(
        temporal_client, settings, definition_id, state_hub, llm_connect, issue_core=issue_core
    ) as harness:
        issue_core.queue_faults("tasks_create", *faults)
        _, handle = await harness.run_manual()
        await _replay_and_record(handle, scenario)


async def _replay_and_record(handle, scenario: str) -> None:
    history = await handle.fetch_history()
    await Replayer(workflows=registered_workflows()).replay_workflow(history)
    target = HISTORIES / f"{scenario}.json"
    if os.environ.get("RECORD_HISTORIES") and not target.exists():
        recorded = json.dumps(json.loads(history.to_json()), indent=1) + "\n"
        target.write_text(_without_machine_paths(recorded))
