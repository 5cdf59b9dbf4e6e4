"""Commands that talk to Temporal end their SDK runtime before the interpreter ends, so the
exit-134 race (``Fatal Python error: PyGILState_Release ... finalizing``) cannot happen.

``tests/finalization_race.py`` makes the race deterministic: the first test shows it kills a
process that leaves the SDK's default runtime running (the cause, reproduced every time),
the others that the commands survive it with no thread of the runtime left behind.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.processes import clean_environment, run
from tests.fixtures.runtime import write_test_definition

pytestmark = pytest.mark.integration


def _race(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "tests.finalization_race", *argv], clean_environment(**env))


def test_a_core_thread_inside_python_at_exit_kills_the_process(temporal_address: str) -> None:
    done = _race("default", temporal_address)

    assert done.stdout.strip() == "called"  # the work was done...
    assert done.returncode < 0, done.stderr  # ...and the process died of a signal while exiting
    assert "finalizing" in done.stderr or done.returncode == -11


def test_schedules_sync_survives_the_race_and_leaves_no_runtime_thread(temporal_address: str, tmp_path: Path) -> None:
    write_test_definition(tmp_path / "definitions", "race-sync")
    done = _race(
        "cli",
        "schedules",
        "sync",
        "--dry-run",
        TEMPORAL_ADDRESS=temporal_address,
        ACTIVITY_CORE_DEFINITIONS_DIR=str(tmp_path / "definitions"),
    )

    assert done.returncode == 0, done.stderr
    assert "(dry run) create    race-sync" in done.stdout
    assert "os threads: 1" in done.stdout
