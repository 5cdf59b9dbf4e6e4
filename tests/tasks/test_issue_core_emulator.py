"""The issue-core emulator: persistence across restarts, the switch that stops it honouring
Idempotency-Key, closing a task as a person would, its strictness, and subprocess mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.devstack.issue_core_emulator import STATE_FILE, IssueCoreEmulator, start_issue_core_emulator
from tests.tasks.test_issue_core_client import KEY, new_task


async def test_tasks_survive_a_restart_and_numbering_continues(tmp_path: Path) -> None:
    with start_issue_core_emulator(data_dir=tmp_path) as first:
        async with IssueCoreClient(first.url, token=None, timeout_seconds=2) as client:
            await client.create_task(new_task())
        first.close_task("ISSUE-1")
    assert (tmp_path / STATE_FILE).is_file()
    with start_issue_core_emulator(data_dir=tmp_path) as second:
        async with IssueCoreClient(second.url, token=None, timeout_seconds=2) as client:
            (kept,) = await client.find_tasks(KEY)
            assert (kept.key, kept.status) == ("ISSUE-1", "closed")
            assert (await client.create_task(new_task(key="next"))).key == "ISSUE-2"


async def test_without_honouring_idempotency_keys_a_second_create_is_a_second_task(
    issue_client: IssueCoreClient, strict_issue_core: IssueCoreEmulator
) -> None:
    await issue_client.create_task(new_task())
    await issue_client.create_task(new_task())
    assert [t["key"] for t in strict_issue_core.tasks()] == ["ISSUE-1", "ISSUE-2"]
    strict_issue_core.reset()  # back to the contract's behaviour
    await issue_client.create_task(new_task())
    await issue_client.create_task(new_task())
    assert len(strict_issue_core.tasks()) == 1


async def test_operators_close_a_task_over_http(issue_client: IssueCoreClient, issue_core: IssueCoreEmulator) -> None:
    created = await issue_client.create_task(new_task())
    async with httpx.AsyncClient(base_url=issue_core.url) as plain:
        closed = await plain.post(f"/_emulator/tasks/{created.key}/status", json={"status": "closed"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        reopened = await plain.post(f"/_emulator/tasks/{created.id}/status", json={"status": "in_progress"})
        assert reopened.json()["status"] == "in_progress"
        assert (await plain.post("/_emulator/tasks/ISSUE-99/status", json={"status": "closed"})).status_code == 404
        assert (await plain.post(f"/_emulator/tasks/{created.key}/status", json={"status": "done"})).status_code == 400
        assert (await plain.post("/_emulator/idempotency", json={"honour": False})).json() == {"honour": False}
    (found,) = await issue_client.find_tasks(KEY)
    assert found.status == "in_progress"
    assert issue_core.requests("tasks_create")  # control calls are not in the request log ...
    assert all(not r.path.startswith("/_emulator/") for r in issue_core.requests())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"review_required": True}, "unknown field review_required"),
        ({"title": ""}, "title must not be empty"),
        ({"title": "x" * 256}, "title is longer than 255 characters"),
        ({"labels": [""]}, "labels must be non-empty strings"),
        ({"links": {"state_hub_id": "ws-1"}}, "run is required"),
        ({"external_key": "not-the-header"}, "Idempotency-Key and external_key differ"),
    ],
)
async def test_it_refuses_what_the_contract_does_not_allow(
    issue_core: IssueCoreEmulator, issue_core_token: str, change: dict, problem: str
) -> None:
    body = new_task().model_dump(mode="json") | change
    headers = {"Authorization": f"Bearer {issue_core_token}", "Idempotency-Key": KEY}
    async with httpx.AsyncClient(base_url=issue_core.url) as plain:
        answer = await plain.post("/api/tasks", json=body, headers=headers)
    assert answer.status_code == 422 and problem in answer.json()["error"]["message"]
    assert issue_core.tasks() == []


def test_subprocess_mode_serves_on_the_printed_url_with_its_token_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "activity_core.devstack.issue_core_emulator", "--port", "0",
         "--data-dir", str(tmp_path / "data"), "--token-file", str(token_file)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{url}/api/tasks").status_code == 401
        assert httpx.get(f"{url}/api/tasks", headers={"Authorization": "Bearer file-token"}).json() == []
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
