"""Run one command in a process group of its own, within a time budget, and leave nothing behind.

The command starts as the leader of a new session (so its process group is its own) through
a tiny launcher that asks Linux to SIGKILL it should the command worker die
(``PR_SET_PDEATHSIG``), then ``exec``s the argv: a command worker killed with SIGKILL takes
its pass with it instead of leaving it to run unwatched. On the budget running out, on
cancellation, and after the command exits, whatever is left of the group gets SIGTERM, then
SIGKILL after the grace: no orphan outlives a pass. Output goes only through the
redact-then-bound collector (``capture.py``). Nothing here knows Temporal.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activity_core.kinds.trigger.capture import StreamCollector, parse_audit_line
from activity_core.kinds.trigger.models import StreamCapture

READ_CHUNK = 64 * 1024
EXEC_FAILED_EXIT = 127
_POLL_SECONDS = 0.05
_AFTER_SIGKILL_SECONDS = 5.0
_PIPE_DRAIN_SECONDS = 5.0

# Runs as `python -I -S -c LAUNCHER <worker pid> <argv...>`: isolated and without site, so it
# reads no environment-dependent paths and starts in milliseconds.
LAUNCHER = """\
import os, signal, sys
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[1]):
        os._exit(137)  # the worker is already gone
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as exc:
    sys.stderr.write("activity-core: cannot execute %r: %s\\n" % (sys.argv[2], exc.strerror))
    os._exit(127)
"""


@dataclass(frozen=True)
class Finished:
    exit_code: int | None  # negative: the signal that ended it
    timed_out: bool
    killed_process_group: bool
    duration_ms: int
    stdout: StreamCapture
    stderr: StreamCapture
    audit: dict[str, Any] | None
    redactions: int


async def run_bounded(
    argv: list[str],
    *,
    budget_seconds: float,
    kill_grace_seconds: float,
    secret_forms: Mapping[bytes, bytes],
    on_started: Callable[[int], None] = lambda pid: None,
) -> Finished:
    """Run ``argv`` to its end or its budget, whichever comes first. Cancelling the call stops
    the whole process group (TERM, grace, KILL) before the cancellation goes on."""
    out = StreamCollector.for_secrets(secret_forms)
    err = StreamCollector.for_secrets(secret_forms)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        "-c",
        LAUNCHER,
        str(os.getpid()),
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    on_started(process.pid)
    pumps = [asyncio.ensure_future(_pump(process.stdout, out)), asyncio.ensure_future(_pump(process.stderr, err))]
    try:
        try:
            await asyncio.wait_for(_exited(process), timeout=budget_seconds)
            timed_out = False
        except TimeoutError:
            timed_out = True
        killed = await stop_process_group(process.pid, kill_grace_seconds)
        await _exited(process)
        await _drain(pumps)
    except asyncio.CancelledError:
        await _finish_despite_cancellation(stop_process_group(process.pid, kill_grace_seconds))
        await _finish_despite_cancellation(_exited(process))
        for pump in pumps:
            pump.cancel()
        raise
    out.close()
    err.close()
    return Finished(
        exit_code=process.returncode,
        timed_out=timed_out,
        killed_process_group=killed,
        duration_ms=int((time.monotonic() - started) * 1000),
        stdout=out.buffer.capture(),
        stderr=err.buffer.capture(),
        audit=parse_audit_line(out.buffer.last_line()),
        redactions=out.redactor.redactions + err.redactor.redactions,
    )


async def stop_process_group(pgid: int, grace_seconds: float) -> bool:
    """SIGTERM the group, SIGKILL what is left after the grace; True when anyone was there."""
    if not group_members(pgid):
        return False
    _signal_group(pgid, signal.SIGTERM)
    if await _wait_group_gone(pgid, grace_seconds):
        return True
    _signal_group(pgid, signal.SIGKILL)
    await _wait_group_gone(pgid, _AFTER_SIGKILL_SECONDS)
    return True


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group.

    Read from /proc where there is one, because ``killpg(pgid, 0)`` also counts zombies, which
    a container without an init never reaps.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


async def _wait_group_gone(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while group_members(pgid):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_SECONDS)
    return True


async def _exited(process: asyncio.subprocess.Process) -> None:
    """The command itself has ended. Not ``process.wait()``: that also waits for the pipes to
    close, which a leftover member of the group can hold open until it is stopped."""
    while process.returncode is None:
        await asyncio.sleep(_POLL_SECONDS)


async def _pump(stream: asyncio.StreamReader, collector: StreamCollector) -> None:
    while chunk := await stream.read(READ_CHUNK):
        collector.feed(chunk)


async def _drain(pumps: Sequence[asyncio.Future[None]]) -> None:
    """Read what the pipes still hold; a process that left the group cannot hold them open forever."""
    _, pending = await asyncio.wait(pumps, timeout=_PIPE_DRAIN_SECONDS)
    for pump in pending:
        pump.cancel()


async def _finish_despite_cancellation(awaitable: Any) -> None:
    """Await cleanup to its end even if the caller is cancelled again meanwhile."""
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            continue
