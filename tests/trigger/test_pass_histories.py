"""TriggerPassWorkflow's determinism: recorded pass histories replay against the current code.

`tests/trigger/histories/*.json` are recorded from real passes; they are only ever added. Record
a new scenario with `RECORD_HISTORIES=1 pytest tests/trigger/test_pass_histories.py`.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from activity_core.kinds.trigger.workflow import TriggerPassWorkflow, pass_workflow_id
from activity_core.settings import PROJECT_ROOT
from tests.trigger.conftest import TriggerHarness
from tests.trigger.support import standin_argv

pytestmark = pytest.mark.integration
HISTORIES = Path(__file__).parent / "histories"
SCENARIOS = {"dry-run-clean": ("dry_run", ()), "execute-exit-2": ("execute", ("--exit", 2))}


def _recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_pass_histories_are_recorded_and_name_no_local_path() -> None:
    assert {p.stem for p in _recorded()} >= set(SCENARIOS)
    for path in _recorded():
        text = "".join(
            base64.b64decode(data).decode(errors="replace") for data in _payload_data(json.loads(path.read_text()))
        )
        assert str(PROJECT_ROOT) not in text and sys.executable not in text, path.name


def _payload_data(node: Any) -> list[str]:
    if isinstance(node, list):
        return [data for value in node for data in _payload_data(value)]
    if not isinstance(node, dict):
        return []
    found = [node["data"]] if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict) else []
    return found + [data for value in node.values() for data in _payload_data(value)]


@pytest.mark.parametrize("path", _recorded(), ids=lambda p: p.stem)
async def test_recorded_pass_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await Replayer(workflows=[TriggerPassWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_fresh_pass_history_replays(trigger: TriggerHarness, scenario: str) -> None:
    mode, knobs = SCENARIOS[scenario]
    definition_id = trigger.define(standin_argv(*knobs), mode=mode)
    await trigger.run(definition_id)
    history = await trigger.client.get_workflow_handle(pass_workflow_id(definition_id)).fetch_history()
    await Replayer(workflows=[TriggerPassWorkflow]).replay_workflow(history)
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        recorded = _without_machine_paths(json.loads(history.to_json()))
        (HISTORIES / f"{scenario}.json").write_text(json.dumps(recorded, indent=1) + "\n")


def _without_machine_paths(node: Any) -> Any:
    """The history with this machine's paths (the interpreter, the checkout) replaced in every
    payload, so that the recorded file names no local path; replay reads the payloads as data."""
    if isinstance(node, list):
        return [_without_machine_paths(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {key: _without_machine_paths(value) for key, value in node.items()}
    if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict):
        text = base64.b64decode(node["data"]).decode()
        for path, placeholder in ((sys.executable, "python3"), (str(PROJECT_ROOT), ".")):
            text = text.replace(path, placeholder)
        node["data"] = base64.b64encode(text.encode()).decode()
    return node
