"""The local stack: whatever the environment does not name, started here.

Each service is used from the environment when its variable is set (TEMPORAL_ADDRESS,
DATABASE_URL, LLM_CONNECT_URL, STATE_HUB_URL, ISSUE_CORE_URL) and otherwise started
embedded: the Temporal dev server, PostgreSQL from pgserver (data under ACTIVITY_CORE_DATA_DIR),
and the three emulators (issue-core's tasks persist under the data dir too). Progress goes to the ``report`` callback, since a first start can take a while.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from activity_core.devstack.embedded import start_postgres, start_temporal
from activity_core.devstack.issue_core_emulator import start_issue_core_emulator
from activity_core.devstack.llm_connect_emulator import start_llm_connect_emulator
from activity_core.devstack.state_hub_emulator import start_state_hub_emulator
from activity_core.settings import Settings
from activity_core.temporal.worker import ServiceEndpoints

Report = Callable[[str], None]


@contextmanager
def _step(report: Report, what: str) -> Iterator[None]:
    started = time.monotonic()
    report(f"  starting {what} ...")
    yield
    report(f"  {what} ready ({time.monotonic() - started:.1f}s)")


@contextmanager
def local_stack(settings: Settings, report: Report, *, persistent: bool) -> Iterator[ServiceEndpoints]:
    """Yield resolved endpoints; embedded services stop when the block exits.

    ``persistent`` keeps Temporal's state in a file (for ``--stay-up``); PostgreSQL's data
    always lives in the project-local data dir so run history survives restarts.
    """
    data_dir = settings.data_dir
    with ExitStack() as stack:
        temporal_address = settings.temporal_address
        if temporal_address:
            report(f"  Temporal: using TEMPORAL_ADDRESS={temporal_address}")
        else:
            with _step(report, "Temporal dev server"):
                temporal = start_temporal(
                    data_dir / "logs", db_file=data_dir / "temporal.db" if persistent else None
                )
            stack.callback(temporal.stop)
            temporal_address = temporal.address
            report(f"  Temporal: {temporal_address}")

        dsn = settings.database_dsn()
        if dsn:
            report("  PostgreSQL: using DATABASE_URL")
        else:
            with _step(report, f"PostgreSQL 16 (data in {data_dir / 'pgdata'})"):
                postgres = start_postgres(data_dir / "pgdata")
            stack.callback(postgres.stop)
            dsn = postgres.dsn

        state_hub_url, token = settings.state_hub_url, settings.state_hub_bearer()
        if state_hub_url:
            report(f"  State Hub: using STATE_HUB_URL={state_hub_url}")
        else:
            token = token or secrets.token_urlsafe(24)
            with _step(report, "State Hub emulator"):
                state_hub = start_state_hub_emulator(token=token)
            stack.callback(state_hub.stop)
            state_hub_url = state_hub.url
            report(f"  State Hub emulator: {state_hub_url}")

        llm_url = settings.llm_connect_url
        if llm_url:
            report(f"  llm-connect: using LLM_CONNECT_URL={llm_url}")
        else:
            with _step(report, "llm-connect emulator"):
                llm = start_llm_connect_emulator()
            stack.callback(llm.stop)
            llm_url = llm.url
            report(f"  llm-connect emulator: {llm_url}")

        issue_core_url, issue_core_token = settings.issue_core_url, settings.issue_core_bearer()
        if issue_core_url:
            report(f"  issue-core: using ISSUE_CORE_URL={issue_core_url} (ISSUE_SINK_TYPE={settings.issue_sink_type})")
        else:
            issue_core_token = secrets.token_urlsafe(24)
            with _step(report, f"issue-core emulator (tasks in {data_dir / 'issue-core'})"):
                issue_core = start_issue_core_emulator(token=issue_core_token, data_dir=data_dir / "issue-core")
            stack.callback(issue_core.stop)
            issue_core_url = issue_core.url
            report(f"  issue-core emulator: {issue_core_url} (ISSUE_SINK_TYPE={settings.issue_sink_type})")

        yield ServiceEndpoints(
            temporal_address=temporal_address,
            database_dsn=dsn,
            llm_connect_url=llm_url,
            state_hub_url=state_hub_url,
            state_hub_token=token,
            issue_core_url=issue_core_url,
            issue_core_token=issue_core_token,
        )
