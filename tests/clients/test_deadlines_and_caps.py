"""Every call is bounded end to end in time and in bytes, and a body that cannot be decoded is a
contract error: over real HTTP against the emulators' faults."""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest

from activity_core.clients import (
    LlmConnectClient,
    LlmConnectContractError,
    LlmConnectTimeout,
    StateHubClient,
    StateHubContractError,
    StateHubTimeout,
)
from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from activity_core.devstack.state_hub_emulator import StateHubEmulator
from tests.clients.support import SOURCE, render_prompt, run_config


async def _execute(client: LlmConnectClient, **kwargs: object):
    return await client.execute(run_config(render_prompt()), request_id="r", source=SOURCE, **kwargs)


async def test_a_trickled_answer_is_cut_at_the_budget(llm_connect: LlmConnectEmulator) -> None:
    """Each 100-byte piece comes well within any per-read timeout; only the whole call's budget ends it."""
    async with LlmConnectClient(llm_connect.url, timeout_seconds=60) as client:
        full_size = len(json.dumps((await _execute(client)).model_dump(exclude_none=True)))
    pause, budget = 0.25, 1.0
    untimed = (full_size // 100) * pause
    assert untimed > 5 * budget  # the drip alone would take this long
    llm_connect.queue_faults("execute", f"drip:100:{pause}")

    async with LlmConnectClient(llm_connect.url, timeout_seconds=budget) as client:
        started = time.monotonic()
        with pytest.raises(LlmConnectTimeout) as failed:
            await _execute(client)
        took = time.monotonic() - started

    assert budget <= took < budget + 0.5 < untimed
    assert str(failed.value) == "llm-connect POST /execute: no complete answer within the 1 s budget"
    assert (failed.value.failure_class, failed.value.retryable) == ("failed_llm_timeout", True)


async def test_an_answer_dripping_within_the_budget_arrives_whole(llm_connect: LlmConnectEmulator) -> None:
    llm_connect.queue_faults("execute", "drip:1000:0.05")

    async with LlmConnectClient(llm_connect.url, timeout_seconds=10) as client:
        response = await _execute(client)

    assert response.finish_reason == "stop" and len(response.content.splitlines()) == 9


async def test_an_answer_over_the_callers_cap_is_a_contract_error_read_no_further(
    llm_connect: LlmConnectEmulator,
) -> None:
    llm_connect.queue_faults("execute", f"oversized_200:{50_000_000}")  # no Content-Length: only counting can stop it

    async with LlmConnectClient(llm_connect.url, timeout_seconds=30) as client:
        tracemalloc.start()
        try:
            with pytest.raises(LlmConnectContractError) as failed:
                await _execute(client, max_body_bytes=524_288)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert "over the 524288 byte cap of this call" in str(failed.value)
    assert (failed.value.failure_class, failed.value.retryable) == ("failed_llm_provider", False)
    assert peak < 8_000_000  # a 50 MB body never sat in memory


async def test_the_cap_is_per_call(llm_connect: LlmConnectEmulator) -> None:
    async with LlmConnectClient(llm_connect.url, timeout_seconds=10) as client:
        with pytest.raises(LlmConnectContractError, match="over the 1000 byte cap"):
            await _execute(client, max_body_bytes=1000)
        assert (await _execute(client, max_body_bytes=100_000)).finish_reason == "stop"


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ("deep_json_200", "body nests too deeply to decode"),
        ("not_utf8_200", "body is not UTF-8"),
        ("not_json_200", "body is not JSON"),
    ],
)
async def test_a_body_that_cannot_be_decoded_is_a_contract_error_never_a_timeout(
    llm_connect: LlmConnectEmulator, fault: str, problem: str
) -> None:
    llm_connect.queue_faults("execute", fault)

    async with LlmConnectClient(llm_connect.url, timeout_seconds=10) as client:
        with pytest.raises(LlmConnectContractError) as failed:
            await _execute(client)

    assert problem in str(failed.value)


async def test_a_state_hub_call_is_bounded_end_to_end(state_hub: StateHubEmulator, state_hub_token: str) -> None:
    state_hub.queue_faults("workstreams", "drip:50:0.2")

    async with StateHubClient(state_hub.url, token=state_hub_token, timeout_seconds=0.8) as hub:
        started = time.monotonic()
        with pytest.raises(StateHubTimeout) as failed:
            await hub.list_workstreams(["active"])

    assert time.monotonic() - started < 1.3
    assert str(failed.value) == "State Hub GET /api/workstreams: no complete answer within the 0.8 s budget"


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ("oversized_200:5000000", "over the 100000 byte cap of this call"),
        ("deep_json_200", "body nests too deeply to decode"),
        ("not_utf8_200", "body is not UTF-8"),
    ],
)
async def test_a_state_hub_body_that_is_too_big_or_undecodable_is_a_contract_error(
    state_hub: StateHubEmulator, state_hub_token: str, fault: str, problem: str
) -> None:
    state_hub.queue_faults("tasks", fault)

    async with StateHubClient(state_hub.url, token=state_hub_token, timeout_seconds=10, max_body_bytes=100_000) as hub:
        with pytest.raises(StateHubContractError) as failed:
            await hub.list_tasks(["todo"])

    assert problem in str(failed.value) and not failed.value.retryable
