"""Clients wired to the session emulators (see tests/fixtures/emulators.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from activity_core.clients import LlmConnectClient, StateHubClient
from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from activity_core.devstack.state_hub_emulator import StateHubEmulator


@pytest.fixture
async def hub(state_hub: StateHubEmulator, state_hub_token: str) -> AsyncIterator[StateHubClient]:
    async with StateHubClient(state_hub.url, token=state_hub_token, timeout_seconds=5) as client:
        yield client


@pytest.fixture
async def llm(llm_connect: LlmConnectEmulator) -> AsyncIterator[LlmConnectClient]:
    async with LlmConnectClient(llm_connect.url, timeout_seconds=5) as client:
        yield client
