"""The local stack as a developer uses it from two terminals: `run --stay-up` in one, the
commands it prints pasted into the other; and stopping it, by Ctrl-C or SIGTERM, leaves no
process of it behind. Everything runs as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from activity_core.devstack.stack import STACK_ENV, read_stack_env
from tests.fixtures.processes import SERVICE_VARIABLES, clean_environment, run, spawn

pytestmark = pytest.mark.integration
STACK_VARIABLES = set(SERVICE_VARIABLES)


class Stack:
    """``activity-core run`` in a process group of its own, as a terminal would run it."""

    started: ClassVar[list[Stack]] = []

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        command: tuple[str, ...] = (sys.executable, "-m", "activity_core", "run"),
        **env: str,
    ) -> None:
        self.data_dir = data_dir
        self.process = spawn([*command, *args], clean_environment(ACTIVITY_CORE_DATA_DIR=str(data_dir), **env))
        Stack.started.append(self)
        self.err: list[str] = []
        self.out: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stderr, self.err), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.err):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never printed {text!r} (exit {self.process.poll()}):\n" + "\n".join(self.err))
            time.sleep(0.1)

    def pids(self) -> dict[str, int]:
        """The servers it started: the Temporal dev server (a descendant) and the postmaster."""
        temporal = [
            pid for pid in _descendants(self.process.pid) if b"start-dev" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        postmaster = int((self.data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
        assert len(temporal) == 1, temporal
        return {"temporal": temporal[0], "postgres": postmaster}

    def stop(self, signum: int, *, group: bool) -> tuple[float, list[str]]:
        """Send ``signum`` (to the whole group, as a terminal's Ctrl-C does); how long until it
        exited, and what it printed on stderr after the signal."""
        before = len(self.err)
        started = time.monotonic()
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        self.process.wait(timeout=60)
        took = time.monotonic() - started
        for reader in self._readers:
            reader.join(timeout=10)
        return took, self.err[before:]


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in map(int, (task / "children").read_text().split()):
            found += [child, *_descendants(child)]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(autouse=True)
def no_stack_outlives_its_test() -> Iterator[None]:
    yield
    for stack in Stack.started:
        if stack.process.poll() is None:
            os.killpg(stack.process.pid, signal.SIGTERM)
            stack.process.wait(timeout=60)
    Stack.started.clear()


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """Outside pytest's rotating basetemp, which a concurrent pytest session may prune under a running server."""
    root = Path(tempfile.mkdtemp(prefix="activity-core-stack-"))
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def stack_env(data_dir: Path) -> Path:
    return data_dir / STACK_ENV


def second_terminal(env_file: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``source stack.env`` and ``command`` in a fresh shell that knows nothing else of the stack."""
    return run(["bash", "-c", f"source {env_file} && {command}"], clean_environment())


def test_stay_up_serves_a_second_terminal_and_sigterm_leaves_nothing_running(data_dir: Path, stack_env: Path) -> None:
    stack = Stack(data_dir, "--stay-up")
    stack.wait_for("    activity-core calibration status")
    pids = stack.pids()
    values = read_stack_env(stack_env)

    assert set(values) >= STACK_VARIABLES and all(values[name] for name in STACK_VARIABLES)
    assert stack_env.stat().st_mode & 0o777 == 0o600
    assert f"    source {stack_env}" in stack.err
    token = values["STATE_HUB_TOKEN"]
    assert token not in "\n".join(stack.err + stack.out)

    listed = second_terminal(stack_env, "activity-core runs list --json")
    assert listed.returncode == 0, listed.stderr
    [run] = json.loads(listed.stdout)
    verdict = second_terminal(stack_env, f"activity-core calibration feedback {run['id']} --verdict accept")
    assert verdict.returncode == 0 and "posted to State Hub" in verdict.stdout, verdict.stderr  # the token works
    history = next(line.removeprefix("history: ") for line in stack.out if line.startswith("history: "))
    assert f"--address {values['TEMPORAL_ADDRESS']}" in history
    shown = second_terminal(stack_env, history)  # pasted as printed
    assert shown.returncode == 0 and "WorkflowExecutionCompleted" in shown.stdout, shown.stderr

    took, after = stack.stop(signal.SIGTERM, group=False)

    assert stack.process.returncode == 0 and after == ["activity-core: stopped; the stack is down"]
    assert took < 20
    assert [name for name, pid in pids.items() if alive(pid)] == []


def test_a_restart_keeps_ports_and_token_and_ctrl_c_leaves_nothing_running(data_dir: Path, stack_env: Path) -> None:
    before = read_stack_env(stack_env)
    assert before, "runs after the first stay-up test, on its data dir"
    stack = Stack(data_dir, "--stay-up")
    stack.wait_for("    activity-core calibration status")
    pids = stack.pids()

    assert read_stack_env(stack_env) == before

    took, after = stack.stop(signal.SIGINT, group=True)

    assert stack.process.returncode == 0 and after == ["activity-core: stopped; the stack is down"]
    assert took < 20
    assert [name for name, pid in pids.items() if alive(pid)] == []


def test_ctrl_c_during_make_run_ends_in_seconds_with_one_line(data_dir: Path, llm_connect: LlmConnectEmulator) -> None:
    llm_connect.queue_faults("execute", "slow:60")  # the run is waiting on the model when Ctrl-C comes
    stack = Stack(data_dir, command=("make", "--no-print-directory", "run"), LLM_CONNECT_URL=llm_connect.url)
    stack.wait_for("manual run started")
    deadline = time.monotonic() + 30
    while not llm_connect.requests("execute") and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = stack.pids()

    took, after = stack.stop(signal.SIGINT, group=True)

    assert stack.process.returncode == -signal.SIGINT  # make ends by the signal, as a shell expects
    assert after == ["activity-core run: interrupted before it finished"]  # and no make error after it
    assert took < 10
    assert not re.search(r"Traceback|CancelledError|grpc|WARN", "\n".join(stack.err))
    assert [name for name, pid in pids.items() if alive(pid)] == []
