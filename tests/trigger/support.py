"""Helpers the trigger tests share: the stand-in's argv, and reading what it recorded."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

STANDIN = Path(__file__).resolve().parent / "standin_warden.py"
STANDIN_PREFIX = [sys.executable, str(STANDIN), "worker", "run", "--once"]
PLANTED_SECRET = "wt-PLANTED-9d4c2b7e1f6a0358"
SECRET_VARIABLE = "STANDIN_STATE_HUB_TOKEN"


def standin_argv(*knobs: str | float) -> list[str]:
    """The stand-in's argv without the mode flag (the definition's ``command.argv``)."""
    return [*STANDIN_PREFIX, *(str(knob) for knob in knobs)]


def starts(path: Path) -> list[dict]:
    """One entry per start of the stand-in, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def alive(pid: int) -> bool:
    """Running or sleeping, that is: neither gone nor a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


async def wait_for(condition, *, timeout: float = 30.0, what: str = "condition") -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def read_pid(path: Path) -> int:
    return int(path.read_text())


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
