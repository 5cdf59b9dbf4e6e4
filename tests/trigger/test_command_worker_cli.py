"""`activity-core command-worker` refuses to start on a configuration it cannot honour."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from activity_core.devstack.embedded import free_port
from activity_core.settings import PROJECT_ROOT


def _command_worker(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ACTIVITY_CORE_"))}
    return subprocess.run(
        [sys.executable, "-m", "activity_core", "command-worker", *args],
        env={**base, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_teaches_the_allow_list_and_the_secret_names() -> None:
    result = _command_worker("--help")
    assert result.returncode == 0
    for needle in ("--allow PREFIX", "--secret-env NAME", "--dry-run-only", "[redacted $NAME]", "TEMPORAL_ADDRESS"):
        assert needle in result.stdout, needle


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--task-queue", "q", "--allow", "warden worker"], {}, "set TEMPORAL_ADDRESS"),
        (
            ["--task-queue", "q", "--allow", "warden", "--secret-env", "NOT_SET_ANYWHERE"],
            {"TEMPORAL_ADDRESS": "127.0.0.1:1"},
            "--secret-env names unset variable(s) NOT_SET_ANYWHERE",
        ),
        (
            ["--task-queue", "q", "--allow", "warden", "--secret-env", "SHORT_SECRET"],
            {"TEMPORAL_ADDRESS": "127.0.0.1:1", "SHORT_SECRET": "abc"},
            "too short to redact",
        ),
        (["--task-queue", "q", "--allow", ""], {"TEMPORAL_ADDRESS": "127.0.0.1:1"}, "non-empty allowed argv prefix"),
    ],
)
def test_a_configuration_it_cannot_honour_exits_2(args: list[str], env: dict[str, str], message: str) -> None:
    result = _command_worker(*args, **env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_temporal_exits_2_naming_it() -> None:
    address = f"127.0.0.1:{free_port()}"
    result = _command_worker("--task-queue", "q", "--allow", "warden", TEMPORAL_ADDRESS=address)
    assert result.returncode == 2
    assert f"on Temporal at {address}" in result.stderr and "Traceback" not in result.stderr
