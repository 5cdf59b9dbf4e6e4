"""`activity-core run --definition <trigger> --no-worker` while a pass is in flight: the CLI an
operator types refuses, naming the pass, exits 1, and starts no run of its own."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from activity_core.kinds.trigger.in_flight import pass_in_flight
from activity_core.kinds.trigger.workflow import pass_workflow_id
from activity_core.settings import PROJECT_ROOT
from activity_core.store.runs import RunQuery
from tests.trigger.conftest import TriggerHarness
from tests.trigger.support import standin_argv, starts, wait_for

pytestmark = pytest.mark.integration


async def test_run_refuses_while_a_pass_is_in_flight_naming_it_and_starts_nothing(
    trigger: TriggerHarness,
    temporal_address: str,
    fresh_database: str,
    state_hub,
    llm_connect,
) -> None:
    starts_file = trigger.tmp_path / "starts"
    definition_id = trigger.define(standin_argv("--starts-file", starts_file, "--hang", 8), mode="execute")
    first = await trigger.start(definition_id)
    await wait_for(lambda: starts(starts_file), what="the first pass")
    assert await pass_in_flight(trigger.client, definition_id) is not None

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVITY_CORE_", "STATE_HUB_", "LLM_CONNECT_"))}
    env.update(
        {
            "TEMPORAL_ADDRESS": temporal_address,
            "DATABASE_URL": fresh_database,
            "STATE_HUB_URL": state_hub.url,
            "STATE_HUB_TOKEN": state_hub.token,
            "LLM_CONNECT_URL": llm_connect.url,
            "ACTIVITY_CORE_DEFINITIONS_DIR": str(trigger.definitions_dir),
            "ACTIVITY_CORE_TASK_QUEUE": trigger.task_queue,
            "ACTIVITY_CORE_DATA_DIR": str(trigger.tmp_path / "cli-data"),
        }
    )
    command = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "activity_core", "run", "--definition", definition_id, "--no-worker"),
        env=env,
        cwd=PROJECT_ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(command.communicate(), timeout=60)
    err = stderr.decode(errors="replace")
    assert command.returncode == 1, err
    assert f"refusing to start {definition_id}" in err
    assert pass_workflow_id(definition_id) in err and first.id in err, err
    assert "manual run started" not in err
    rows = await trigger.services.runs.list_runs(RunQuery(definition_id=definition_id))
    assert [r.workflow_id for r in rows] == [first.id], "the refused command started a run (it would have a row)"

    done = await trigger.outcome(first)
    assert done.status == "clean"
    assert len(starts(starts_file)) == 1
    rows = await trigger.services.runs.list_runs(RunQuery(definition_id=definition_id))
    assert [r.workflow_id for r in rows] == [first.id]
