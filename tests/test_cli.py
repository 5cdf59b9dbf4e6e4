"""The command surface: help that teaches, and refusals that name the problem and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from activity_core.cli import main
from activity_core.settings import PROJECT_ROOT

SERVICE_VARIABLES = ("TEMPORAL_ADDRESS", "DATABASE_URL", "LLM_CONNECT_URL", "STATE_HUB_URL")


def test_top_level_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "worker", "migrate", "schedules", "definitions", "replay-output", "runs", "calibration", "report"):
        assert f"    {command}" in out
    assert "07:20 Europe/Berlin" in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: activity-core" in capsys.readouterr().err


def test_worker_refuses_to_start_on_a_broken_definition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "definitions"
    shutil.copytree(PROJECT_ROOT / "definitions", broken)
    path = broken / "daily-statehub-wsjf-triage.yaml"
    path.write_text(path.read_text().replace("minute: 20", "minute: 75"))
    monkeypatch.setenv("ACTIVITY_CORE_DEFINITIONS_DIR", str(broken))
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "daily-statehub-wsjf-triage.yaml" in err and "schedule.minute" in err


def test_worker_without_services_names_the_variables_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SERVICE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in SERVICE_VARIABLES) and "activity-core run" in err


def test_schedules_sync_without_temporal_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    assert main(["schedules", "sync"]) == 2
    assert "TEMPORAL_ADDRESS" in capsys.readouterr().err


def test_run_without_a_worker_needs_a_temporal_that_has_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    assert main(["run", "--no-worker"]) == 2
    assert "TEMPORAL_ADDRESS" in capsys.readouterr().err
