"""The local stack: whatever the environment does not name, started here.

Each service is used from the environment when its variable is set (TEMPORAL_ADDRESS,
DATABASE_URL, LLM_CONNECT_URL, STATE_HUB_URL, ISSUE_CORE_URL) and otherwise started embedded: the
Temporal dev server, PostgreSQL from pgserver (data under ACTIVITY_CORE_DATA_DIR), and the three
emulators (whose state persists under the data dir too). Progress goes to the ``report`` callback, since a first start can take a while.

A stack that stays up writes ``stack.env`` into the data dir: the variables that point a
second terminal at it (``source .activity-core/stack.env``). The same file is what a
restart reads back, so the stack keeps its ports (where they are still free) and its State
Hub token, and a terminal that sourced it before stays pointed at the right place.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from activity_core.devstack.embedded import port_or_free, start_postgres, start_temporal
from activity_core.devstack.issue_core_emulator import start_issue_core_emulator
from activity_core.devstack.llm_connect_emulator import start_llm_connect_emulator
from activity_core.devstack.state_hub_emulator import start_state_hub_emulator
from activity_core.settings import Settings
from activity_core.temporal.worker import ServiceEndpoints

Report = Callable[[str], None]
STACK_ENV = "stack.env"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stack_variables(endpoints: ServiceEndpoints) -> dict[str, str | None]:
    """What a second terminal needs, by variable: one line per service."""
    return {
        "TEMPORAL_ADDRESS": endpoints.temporal_address,
        "DATABASE_URL": endpoints.database_dsn,
        "STATE_HUB_URL": endpoints.state_hub_url,
        "STATE_HUB_TOKEN": endpoints.state_hub_token,
        "LLM_CONNECT_URL": endpoints.llm_connect_url,
        "ISSUE_CORE_URL": endpoints.issue_core_url,
        "ISSUE_CORE_TOKEN": endpoints.issue_core_token,
    }


def write_stack_env(path: Path, endpoints: ServiceEndpoints) -> Path:
    """Write the variables as ``export NAME=value`` lines, readable by the owner only (it holds
    the token and the DSN); the interpreter's bin directory goes first on PATH, so that
    ``activity-core`` and ``temporal`` are the ones of this stack."""
    lines = [
        "# The local stack of `activity-core run --stay-up`; valid while it runs.",
        "# Use it from another terminal: source this file. Written again at each start.",
        *(f"export {name}={shlex.quote(value)}" for name, value in stack_variables(endpoints).items() if value),
        f'export PATH={shlex.quote(str(Path(sys.executable).parent))}:"$PATH"',
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def read_stack_env(path: Path) -> dict[str, str]:
    """The ``export NAME=value`` lines of an earlier ``stack.env``; empty when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            found[name] = value
    return found


def _port_of(address: str | None) -> int | None:
    if not address:
        return None
    try:
        return urlsplit(address if "//" in address else f"//{address}").port
    except ValueError:
        return None


def _same_port(address: str | None) -> int:
    """The port of ``address`` when it is free again, else 0 (any)."""
    port = _port_of(address)
    return port_or_free(port) if port else 0


@contextmanager
def _step(report: Report, what: str) -> Iterator[None]:
    started = time.monotonic()
    report(f"  starting {what} ...")
    yield
    report(f"  {what} ready ({time.monotonic() - started:.1f}s)")


@contextmanager
def local_stack(settings: Settings, report: Report, *, persistent: bool) -> Iterator[ServiceEndpoints]:
    """Yield resolved endpoints; embedded services stop when the block exits.

    ``persistent`` keeps Temporal's state in a file and reuses the ports and token of the
    previous ``stack.env`` (for ``--stay-up``); PostgreSQL's data always lives in the
    project-local data dir so run history survives restarts.
    """
    data_dir = settings.data_dir
    before = read_stack_env(data_dir / STACK_ENV) if persistent else {}
    stack = ExitStack()
    try:
        temporal_address = settings.temporal_address
        if temporal_address:
            report(f"  Temporal: using TEMPORAL_ADDRESS={temporal_address}")
        else:
            with _step(report, "Temporal dev server"):
                temporal = start_temporal(
                    data_dir / "logs",
                    db_file=data_dir / "temporal.db" if persistent else None,
                    port=_port_of(before.get("TEMPORAL_ADDRESS")),
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
            token = token or before.get("STATE_HUB_TOKEN") or secrets.token_urlsafe(24)
            with _step(report, "State Hub emulator"):
                state_hub = start_state_hub_emulator(
                    token=token,
                    port=_same_port(before.get("STATE_HUB_URL")),
                    state_file=data_dir / "state-hub-emulator.json" if persistent else None,
                )
            stack.callback(state_hub.stop)
            state_hub_url = state_hub.url
            report(f"  State Hub emulator: {state_hub_url}")

        llm_url = settings.llm_connect_url
        if llm_url:
            report(f"  llm-connect: using LLM_CONNECT_URL={llm_url}")
        else:
            with _step(report, "llm-connect emulator"):
                llm = start_llm_connect_emulator(port=_same_port(before.get("LLM_CONNECT_URL")))
            stack.callback(llm.stop)
            llm_url = llm.url
            report(f"  llm-connect emulator: {llm_url}")

        issue_core_url, issue_core_token = settings.issue_core_url, settings.issue_core_bearer()
        if issue_core_url:
            report(f"  issue-core: using ISSUE_CORE_URL={issue_core_url} (ISSUE_SINK_TYPE={settings.issue_sink_type})")
        else:
            issue_core_token = before.get("ISSUE_CORE_TOKEN") or secrets.token_urlsafe(24)
            with _step(report, f"issue-core emulator (tasks in {data_dir / 'issue-core'})"):
                issue_core = start_issue_core_emulator(
                    token=issue_core_token,
                    data_dir=data_dir / "issue-core",
                    port=_same_port(before.get("ISSUE_CORE_URL")),
                )
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
    finally:
        with _stop_signals_deferred():
            stack.close()


@contextmanager
def _stop_signals_deferred() -> Iterator[None]:
    """A Ctrl-C or SIGTERM while the servers stop must not cut that short (and leave one running):
    it is noted, and raised as ``KeyboardInterrupt`` once everything is down."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: noted.append(signum)) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if noted:
        raise KeyboardInterrupt
