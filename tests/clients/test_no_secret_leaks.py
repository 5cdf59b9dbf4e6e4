"""The planted State Hub token and a planted prompt secret never leave in an error message, a
repr or a log line, on any failure path, including a service that echoes the request back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest

from activity_core.clients import (
    LlmConnectClient,
    LlmConnectError,
    Note,
    ProgressEvent,
    StateHubClient,
    StateHubError,
)
from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from activity_core.devstack.state_hub_emulator import StateHubEmulator
from tests.clients.support import PROMPT_SECRET, SOURCE, render_prompt, run_config

log = logging.getLogger("tests.clients.leaks")

STATE_HUB_CALLS: dict[str, Callable[[StateHubClient], Awaitable[object]]] = {
    "workstreams": lambda hub: hub.list_workstreams(["active"]),
    "progress": lambda hub: hub.post_progress(
        ProgressEvent(event_type="daily_triage", summary="s", idempotency_key="k", payload={"n": 1})
    ),
    "notes": lambda hub: hub.write_note(Note(key="daily-triage-2026-06-27", title="t", body_markdown="b")),
}


def assert_nowhere(secret: str, exc: Exception, caplog: pytest.LogCaptureFixture) -> None:
    log.error("call failed", exc_info=exc)  # as an activity would log it: traceback and causes included
    assert secret not in str(exc)
    assert secret not in repr(exc)
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("route", "fault"),
    [
        ("workstreams", "http_503"),
        ("workstreams", "echo_request_500"),
        ("workstreams", "not_json_200"),
        ("workstreams", "drop_connection"),
        ("workstreams", "slow:1"),
        ("progress", "apply_then_500"),
        ("notes", "http_500"),
    ],
)
async def test_state_hub_errors_never_carry_the_token(
    state_hub: StateHubEmulator, state_hub_token: str, caplog: pytest.LogCaptureFixture, route: str, fault: str
) -> None:
    caplog.set_level(logging.DEBUG)
    state_hub.queue_faults(route, fault)

    async with StateHubClient(state_hub.url, token=state_hub_token, timeout_seconds=0.3) as client:
        with pytest.raises(StateHubError) as failed:
            await STATE_HUB_CALLS[route](client)

    assert_nowhere(state_hub_token, failed.value, caplog)
    assert state_hub_token not in repr(client)
    if fault == "echo_request_500":  # a GET: the echoed headers fall within the quoted excerpt
        assert "'authorization': 'Bearer [redacted]'" in str(failed.value)


async def test_an_auth_failure_never_carries_the_token(
    state_hub: StateHubEmulator, state_hub_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stale = f"{state_hub_token}-stale"

    async with StateHubClient(state_hub.url, token=stale, timeout_seconds=5) as client:
        with pytest.raises(StateHubError) as failed:
            await client.list_tasks(["todo"])

    assert_nowhere(state_hub_token, failed.value, caplog)


@pytest.mark.parametrize(
    "fault",
    [
        "http_502",
        "provider_error",
        "structured_output_error",
        "configuration_error",
        "echo_request_500",
        "content_not_string",
        "not_json_200",
        "drop_connection",
        "slow:1",
    ],
)
async def test_llm_connect_errors_never_carry_the_prompt(
    llm_connect: LlmConnectEmulator, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_connect.queue_faults("execute", fault)
    config = run_config(render_prompt(preamble=f"Operator note: {PROMPT_SECRET}.\n"))

    async with LlmConnectClient(llm_connect.url, timeout_seconds=0.3) as client:
        with pytest.raises(LlmConnectError) as failed:
            await client.execute(config, request_id="r", source=SOURCE)

    assert_nowhere(PROMPT_SECRET, failed.value, caplog)
    assert PROMPT_SECRET not in repr(config)
    if fault == "echo_request_500":  # the echo reached the message, with the prompt blanked out
        assert 'request body: {"prompt":[redacted]' in str(failed.value)
