"""Every ``temporal`` command the README documents works against a real dev server.

The commands are read out of the README's ``sh`` blocks, so the docs cannot drift from the
CLI: a wrong flag (like tctl's ``--schedule_id``) fails here. They run as written, through
bash, with ``TEMPORAL_ADDRESS`` pointing at the session's dev server (the CLI reads it, as it
would the cluster's); ``<id>`` is the workflow id the documented ``workflow start`` printed.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from activity_core.definitions.loader import load_all
from activity_core.settings import PROJECT_ROOT
from activity_core.temporal.schedules import sync_schedules

pytestmark = pytest.mark.integration
SCHEDULE_ID = "daily-statehub-wsjf-triage"
DOCUMENTED_TASK_QUEUE = "activity-core"


def documented_temporal_commands(readme: str) -> list[str]:
    """The ``temporal ...`` commands of the README's sh blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", readme, re.DOTALL):
        for command in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#\s.*$", "", command).strip()
            if command.startswith("temporal "):
                commands.append(" ".join(command.split()))
    return commands


def test_the_readme_documents_the_commands_this_test_runs() -> None:
    commands = documented_temporal_commands((PROJECT_ROOT / "README.md").read_text())
    verbs = {" ".join(command.split()[1:3]) for command in commands}
    assert {"schedule trigger", "workflow start", "workflow show", "schedule describe"} <= verbs


async def test_every_documented_temporal_command_runs_against_the_dev_server(
    temporal_client: Client, temporal_address: str
) -> None:
    await sync_schedules(temporal_client, load_all(PROJECT_ROOT / "definitions"), task_queue=DOCUMENTED_TASK_QUEUE)
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_address,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    started: list[str] = []
    try:
        for command in documented_temporal_commands((PROJECT_ROOT / "README.md").read_text()):
            if "<id>" in command:
                assert started, f"{command!r} needs a workflow the README started before it"
                command = command.replace("<id>", started[-1])
            assert "<" not in command, f"the README's {command!r} has a placeholder this test cannot fill"
            done = await asyncio.to_thread(
                subprocess.run,
                ["bash", "-c", command],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            if " workflow start " in f" {command} ":
                started.append(re.search(r"WorkflowId\s+(\S+)", done.stdout).group(1))
    finally:
        await _clean_up(temporal_client, started)


async def _clean_up(client: Client, workflow_ids: list[str]) -> None:
    """No worker polls the documented task queue: end what the commands started."""
    async for execution in client.list_workflows(f'TaskQueue="{DOCUMENTED_TASK_QUEUE}" AND ExecutionStatus="Running"'):
        workflow_ids.append(execution.id)
    for workflow_id in workflow_ids:
        try:
            await client.get_workflow_handle(workflow_id).terminate("README command test")
        except RPCError:
            pass  # already ended
    await client.get_schedule_handle(SCHEDULE_ID).delete()
