"""LlmConnectClient over real HTTP against the llm-connect emulator."""

from __future__ import annotations

import json

import pytest

from activity_core.clients import (
    LlmConnectClient,
    LlmConnectConfigurationError,
    LlmConnectContractError,
    LlmConnectError,
    LlmConnectProviderError,
    LlmConnectTimeout,
    LlmConnectTransportError,
)
from activity_core.devstack.embedded import free_port
from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from tests.clients.support import PROFILE, SOURCE, planning_ids, render_prompt, run_config

FIBONACCI = {1, 2, 3, 5, 8, 13, 20}


async def test_health(llm: LlmConnectClient) -> None:
    await llm.health()


async def test_the_default_report_is_well_formed_ndjson_ranking_prompt_ids(llm: LlmConnectClient) -> None:
    prompt = render_prompt(date="2026-06-27", top_n=7)

    response = await llm.execute(run_config(prompt), request_id="wf-1/run-1", source=SOURCE)

    envelope, *items, trailer = [json.loads(line) for line in response.content.splitlines()]
    assert envelope == envelope | {"type": "summary", "date": "2026-06-27", "item_count": 7}
    assert trailer == {"type": "end", "item_count": 7}
    assert [item["rank"] for item in items] == list(range(1, 8))
    assert {item["candidate"] for item in items} <= planning_ids(prompt)
    assert len({item["candidate"] for item in items}) == 7
    for item in items:
        wsjf = item["wsjf"]
        parts = [wsjf[k] for k in ("business_value", "time_criticality", "risk_reduction", "job_size")]
        assert set(parts) <= FIBONACCI
        assert wsjf["score"] == round(sum(parts[:3]) / parts[3], 2)
        assert item["title"] and item["rationale"] and item["next_action"]
    scores = [item["wsjf"]["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert (response.finish_reason, response.provider, response.metadata) == ("stop", "emulator", {"profile": PROFILE})
    assert response.usage and response.usage["total_tokens"] > 0


async def test_the_report_is_deterministic_and_bounded_by_the_prompt(llm: LlmConnectClient) -> None:
    prompt = render_prompt()
    first = await llm.execute(run_config(prompt), request_id="r1", source=SOURCE)
    again = await llm.execute(run_config(prompt), request_id="r2", source=SOURCE)
    top_three = await llm.execute(run_config(render_prompt(top_n=3)), request_id="r3", source=SOURCE)
    two_ids = await llm.execute(run_config(render_prompt(limit=2)), request_id="r4", source=SOURCE)

    assert again.content == first.content
    assert len(top_three.content.splitlines()) == 3 + 2
    assert len(two_ids.content.splitlines()) == 2 + 2


async def test_execute_sends_the_run_config_and_attribution_headers(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    config = run_config(render_prompt())

    await llm.execute(config, request_id="daily-triage-2026-06-27/run-9", source=SOURCE)

    [sent] = llm_connect.requests("execute")
    assert sent.headers["x-request-id"] == "daily-triage-2026-06-27/run-9"
    assert sent.headers["x-activity-source"] == SOURCE
    assert sent.json() == {
        "prompt": config.prompt,
        "model_name": PROFILE,
        "temperature": 0.2,
        "max_tokens": 1800,
        "max_depth": 2,
        "model_params": {"reasoning_effort": "medium", "response_format": "ndjson"},
    }  # no "system_prompt": None fields are left out


@pytest.mark.parametrize(
    ("fault", "error", "failure_class", "retryable", "status", "error_type"),
    [
        ("http_500", LlmConnectProviderError, "failed_llm_provider", True, 500, None),
        ("http_502", LlmConnectProviderError, "failed_llm_provider", True, 502, None),
        ("http_503", LlmConnectProviderError, "failed_llm_provider", True, 503, None),
        ("provider_error", LlmConnectProviderError, "failed_llm_provider", True, 502, "provider_error"),
        (
            "structured_output_error",
            LlmConnectProviderError,
            "failed_llm_provider",
            False,  # the body's "retryable": false wins over the class default
            502,
            "malformed_structured_output",
        ),
        ("configuration_error", LlmConnectConfigurationError, "failed_config", False, 400, "configuration_error"),
        ("drop_connection", LlmConnectTransportError, "failed_llm_transport", True, None, None),
        ("content_not_string", LlmConnectContractError, "failed_llm_provider", False, 200, None),
        ("not_json_200", LlmConnectContractError, "failed_llm_provider", False, 200, None),
    ],
)
async def test_each_fault_maps_to_its_error(
    llm: LlmConnectClient,
    llm_connect: LlmConnectEmulator,
    fault: str,
    error: type[LlmConnectError],
    failure_class: str,
    retryable: bool,
    status: int | None,
    error_type: str | None,
) -> None:
    llm_connect.queue_faults("execute", fault)

    with pytest.raises(LlmConnectError) as failed:
        await llm.execute(run_config(render_prompt()), request_id="r", source=SOURCE)

    assert type(failed.value) is error
    assert (failed.value.failure_class, failed.value.retryable) == (failure_class, retryable)
    assert (failed.value.status_code, failed.value.error_type) == (status, error_type)
    assert "llm-connect POST /execute" in str(failed.value)


async def test_an_unknown_profile_is_a_configuration_error_with_the_service_message(llm: LlmConnectClient) -> None:
    with pytest.raises(LlmConnectConfigurationError) as failed:
        await llm.execute(run_config(render_prompt(), model_name="nope"), request_id="r", source=SOURCE)

    assert str(failed.value) == (
        "llm-connect POST /execute answered 400 configuration_error: profile 'nope' is not configured"
    )
    assert not failed.value.retryable


async def test_a_run_config_the_service_rejects_is_a_configuration_error(llm: LlmConnectClient) -> None:
    with pytest.raises(LlmConnectConfigurationError) as failed:
        await llm.execute(run_config(render_prompt(), temperature=5.0), request_id="r", source=SOURCE)

    assert failed.value.status_code == 422
    assert "temperature must be between 0 and 2" in str(failed.value)


async def test_a_slow_answer_beyond_the_budget_is_a_timeout(llm_connect: LlmConnectEmulator) -> None:
    llm_connect.queue_faults("execute", "slow:2")

    async with LlmConnectClient(llm_connect.url, timeout_seconds=0.2) as client:
        with pytest.raises(LlmConnectTimeout) as failed:
            await client.execute(run_config(render_prompt()), request_id="r", source=SOURCE)

    assert (failed.value.failure_class, failed.value.retryable) == ("failed_llm_timeout", True)


async def test_a_slow_answer_within_the_budget_succeeds(llm: LlmConnectClient, llm_connect: LlmConnectEmulator) -> None:
    llm_connect.queue_faults("execute", "slow:0.1")

    response = await llm.execute(run_config(render_prompt()), request_id="r", source=SOURCE)

    assert response.finish_reason == "stop"


async def test_connection_refused_is_a_transport_error() -> None:
    async with LlmConnectClient(f"http://127.0.0.1:{free_port()}", timeout_seconds=2) as client:
        with pytest.raises(LlmConnectTransportError) as failed:
            await client.health()

    assert (failed.value.failure_class, failed.value.retryable) == ("failed_llm_transport", True)
