"""A migrated database with its task_spawn_log, and an issue-core client on the session emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.devstack.issue_core_emulator import IssueCoreEmulator
from activity_core.observability.logging import redact, register_settings_secrets
from activity_core.settings import Settings, SinkType
from activity_core.store.tasks import TaskSpawnLog
from activity_core.tasks.emission import TaskEmitter
from tests.store.conftest import pool  # noqa: F401  (a migrated database, fresh for every test)

CLIENT_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def spawn_log(pool: asyncpg.Pool) -> TaskSpawnLog:  # noqa: F811  (the fixture imported above)
    return TaskSpawnLog(pool, timeout=10.0)


@pytest.fixture
async def issue_client(issue_core: IssueCoreEmulator, issue_core_token: str) -> AsyncIterator[IssueCoreClient]:
    async with IssueCoreClient(
        issue_core.url, token=issue_core_token, timeout_seconds=CLIENT_TIMEOUT_SECONDS
    ) as client:
        yield client


@pytest.fixture
def strict_issue_core(issue_core: IssueCoreEmulator) -> IssueCoreEmulator:
    """The emulator ignoring Idempotency-Key: a second create would be a second task, so a
    test passing here proves that our code, not the service, keeps tasks single."""
    issue_core.honour_idempotency_key(False)
    return issue_core


@pytest.fixture
def scrub(issue_core: IssueCoreEmulator, issue_core_token: str) -> Callable[[str], str]:
    """What the worker passes: ``redact``, after the settings' secrets are registered."""
    register_settings_secrets(
        Settings(issue_sink_type="rest", issue_core_url=issue_core.url, issue_core_token=issue_core_token)
    )
    return redact


@pytest.fixture
def emitter(
    spawn_log: TaskSpawnLog, issue_client: IssueCoreClient, scrub: Callable[[str], str]
) -> Callable[..., TaskEmitter]:
    def make(ceiling: SinkType = SinkType.REST, *, client: IssueCoreClient | None = issue_client) -> TaskEmitter:
        return TaskEmitter(spawn_log, ceiling=ceiling, client=client, scrub=scrub)

    return make
