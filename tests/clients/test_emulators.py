"""The emulators themselves: seed, fault queue, the faulty outputs they produce, and the
subprocess mode with its HTTP control endpoints."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from activity_core.clients import LlmConnectClient, LlmResponse, ProgressEvent, StateHubClient, StateHubHTTPError
from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from activity_core.devstack.state_hub_emulator import NAMESPACE, StateHubEmulator, seed_planning_state
from activity_core.settings import PROJECT_ROOT
from tests.clients.support import SOURCE, planning_ids, render_prompt, run_config


def test_the_seed_is_deterministic_and_looks_like_a_planning_state() -> None:
    workstreams, tasks = seed_planning_state()

    assert (workstreams, tasks) == seed_planning_state()
    assert 25 <= len(workstreams) <= 35 and 90 <= len(tasks) <= 110
    statuses = Counter(w["status"] for w in workstreams)
    assert statuses["active"] > len(workstreams) / 2
    assert {"blocked", "proposed", "done"} <= set(statuses)
    assert {t["status"] for t in tasks} == {"todo", "wait", "blocked", "active", "done"}
    by_slug = {w["slug"]: w["id"] for w in workstreams}
    assert by_slug["activity-core-llm-endpoint"] == str(uuid.uuid5(NAMESPACE, "workstream:activity-core-llm-endpoint"))
    assert {t["workstream_id"] for t in tasks} <= set(by_slug.values())


def test_a_fault_the_route_does_not_understand_is_refused(
    state_hub: StateHubEmulator, llm_connect: LlmConnectEmulator
) -> None:
    for route, fault in [("progress", "malformed_item"), ("workstreams", "apply_then_500"), ("progress", "slow:x")]:
        with pytest.raises(ValueError, match="does not apply"):
            state_hub.queue_faults(route, fault)
    with pytest.raises(ValueError, match="unknown route"):
        llm_connect.queue_faults("progress", "http_500")


async def test_reset_restores_the_initial_state(state_hub: StateHubEmulator, hub: StateHubClient) -> None:
    await hub.post_progress(ProgressEvent(event_type="daily_triage", summary="s", idempotency_key="k"))
    state_hub.queue_faults("workstreams", "http_500")

    state_hub.reset()

    assert state_hub.progress_events() == [] and state_hub.requests() == []
    assert await hub.list_workstreams(["active"])  # the queued fault is gone too


async def test_an_unknown_path_is_404_and_recorded(state_hub: StateHubEmulator) -> None:
    async with httpx.AsyncClient(base_url=state_hub.url) as http:
        response = await http.get("/api/decisions")

    assert response.status_code == 404
    assert [(r.route, r.path) for r in state_hub.requests()] == [(None, "/api/decisions")]


def item_lines(content: str) -> list[dict | None]:
    """Each line decoded, or None where it is not JSON."""
    decoded: list[dict | None] = []
    for line in content.splitlines():
        try:
            decoded.append(json.loads(line))
        except ValueError:
            decoded.append(None)
    return decoded


async def execute_with_fault(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator, fault: str, prompt: str
) -> LlmResponse:
    llm_connect.queue_faults("execute", fault)
    return await llm.execute(run_config(prompt), request_id="r", source=SOURCE)


async def test_malformed_item_breaks_exactly_one_item_line(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    response = await execute_with_fault(llm, llm_connect, "malformed_item", render_prompt())

    lines = item_lines(response.content)
    assert lines.count(None) == 1
    assert lines[0]["type"] == "summary" and lines[-1] == {"type": "end", "item_count": 7}


async def test_truncated_cuts_the_last_item_and_reports_length(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    response = await execute_with_fault(llm, llm_connect, "truncated", render_prompt())

    lines = item_lines(response.content)
    assert response.finish_reason == "length"
    assert lines[-1] is None and lines.count(None) == 1
    assert [line["type"] for line in lines[:-1]] == ["summary"] + ["item"] * 6


async def test_monolithic_0626_is_the_legacy_document_with_one_missing_comma(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    prompt = render_prompt()
    response = await execute_with_fault(llm, llm_connect, "monolithic_0626", prompt)

    with pytest.raises(json.JSONDecodeError, match="Expecting ',' delimiter"):
        json.loads(response.content)
    assert 4000 <= len(response.content) <= 7000
    repaired = json.loads(re.sub(r'("risk_reduction": \d+)\n', r"\1,\n", response.content))
    recommendations = repaired["recommendations"]
    assert len(recommendations) >= 7
    assert {r["candidate"] for r in recommendations} <= planning_ids(prompt)
    assert set(recommendations[0]) == {"rank", "candidate", "title", "wsjf", "rationale", "next_action"}


async def test_unknown_reference_names_one_id_outside_the_prompt(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    prompt = render_prompt()
    response = await execute_with_fault(llm, llm_connect, "unknown_reference", prompt)

    candidates = [line["candidate"] for line in item_lines(response.content) if line and line["type"] == "item"]
    assert len(candidates) == 7
    assert len(set(candidates) - planning_ids(prompt)) == 1


async def test_garbage_holds_no_item(llm: LlmConnectClient, llm_connect: LlmConnectEmulator) -> None:
    response = await execute_with_fault(llm, llm_connect, "garbage", render_prompt())

    assert not [line for line in item_lines(response.content) if isinstance(line, dict) and line.get("type") == "item"]


@contextmanager
def emulator_process(module: str, *args: str) -> Iterator[str]:
    """``python -m <module> --port 0``; yields the URL it prints, then SIGTERMs it and
    checks that it exited cleanly."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)
        process.stdout.close()
    assert returncode == 0


async def test_the_state_hub_subprocess_is_controlled_over_http(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("sh-subprocess-token\n")

    with emulator_process("activity_core.devstack.state_hub_emulator", "--token-file", str(token_file)) as url:
        async with (
            httpx.AsyncClient(base_url=url) as control,
            StateHubClient(url, token="sh-subprocess-token", timeout_seconds=5) as hub,
        ):
            refused = await control.post("/_emulator/faults", json={"route": "progress", "faults": ["nope"]})
            queued = await control.post("/_emulator/faults", json={"route": "progress", "faults": ["http_503"]})
            event = ProgressEvent(event_type="daily_triage", summary="s", idempotency_key="k")
            with pytest.raises(StateHubHTTPError):
                await hub.post_progress(event)
            event_id = await hub.post_progress(event)
            recorded = (await control.get("/_emulator/requests")).json()
            deleted = await control.delete(f"/_emulator/progress/{event_id}")
            remaining = await hub.list_progress("daily_triage")

    assert (refused.status_code, queued.status_code, deleted.status_code) == (400, 200, 204)
    assert [r["route"] for r in recorded] == ["progress", "progress"]
    assert remaining == []


async def test_the_llm_connect_subprocess_serves_the_profiles_it_is_given() -> None:
    with emulator_process("activity_core.devstack.llm_connect_emulator", "--profile", "custom-profile") as url:
        async with LlmConnectClient(url, timeout_seconds=5) as llm:
            await llm.health()
            response = await llm.execute(
                run_config(render_prompt(), model_name="custom-profile"), request_id="r", source=SOURCE
            )

    assert response.metadata == {"profile": "custom-profile"}
