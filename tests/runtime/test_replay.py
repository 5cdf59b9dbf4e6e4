"""Workflow determinism: recorded histories replay cleanly against the current workflow code.

`tests/histories/*.json` are histories recorded from real runs (clean, partial with a re-ask,
failed_config). Re-record them after an intentional, versioned workflow change with
`RECORD_HISTORIES=1 pytest tests/runtime/test_replay.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from activity_core.kinds.instruction.legacy.workflow import InstructionWorkflow
from tests.fixtures.runtime import TriageHarness

pytestmark = pytest.mark.integration
HISTORIES = Path(__file__).parent.parent / "histories"
SCENARIOS = {"clean": [], "reask-then-partial": ["garbage", "malformed_item"], "failed-config": ["configuration_error"]}


def _recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_histories_are_recorded() -> None:
    assert {p.stem for p in _recorded()} >= set(SCENARIOS), "record them: RECORD_HISTORIES=1 pytest tests/runtime/test_replay.py"


@pytest.mark.parametrize("path", _recorded(), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await Replayer(workflows=[InstructionWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_fresh_history_replays(triage: TriageHarness, scenario: str) -> None:
    if SCENARIOS[scenario]:
        triage.llm_connect.queue_faults("execute", *SCENARIOS[scenario])
    _, handle = await triage.run_manual()
    history = await handle.fetch_history()
    await Replayer(workflows=[InstructionWorkflow]).replay_workflow(history)
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{scenario}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
