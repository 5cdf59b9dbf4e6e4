"""The command surface: help that teaches, and every expected failure answered in one line on
stderr (the problem and the fix) with a documented exit code, never a traceback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from activity_core.cli import build_parser, main
from activity_core.commands.errors import ExitCode
from activity_core.devstack.embedded import free_port
from activity_core.settings import PROJECT_ROOT
from tests.fixtures.processes import SERVICE_VARIABLES, clean_environment, run, spawn


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``activity-core ARGS`` as an operator runs it: a process of its own, the given variables."""
    return run([sys.executable, "-m", "activity_core", *args], clean_environment(**env))


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, *fragments: str) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_top_level_help_names_every_command_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in (
        "run",
        "worker",
        "migrate",
        "schedules",
        "definitions",
        "replay-output",
        "runs",
        "calibration",
        "report",
    ):
        assert f"    {command}" in out
    assert "07:20 Europe/Berlin" in out
    for code in ExitCode:
        assert f"{code.value} " in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: activity-core" in capsys.readouterr().err


def test_the_readme_documents_every_exit_code() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| `(\d+)` \|", section, re.MULTILINE)}
    assert documented == {code.value for code in ExitCode}


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("LLM_CONNECT_TIMEOUT_SECONDS", "-3", "a number of seconds greater than 0"),
        ("LLM_CONNECT_TIMEOUT_SECONDS", "abc", "a number of seconds greater than 0"),
        ("ACTIVITY_CORE_DB_POOL_MAX", "0", "a whole number from 1 to 1000"),
        ("ACTIVITY_CORE_LOG_LEVEL", "LOUD", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("ACTIVITY_CORE_LOG_FORMAT", "xml", "json or text"),
        ("ACTIVITY_CORE_HEALTH_PORT", "99999", "a port number from 0 to 65535"),
        ("ACTIVITY_CORE_RAW_RETENTION_DAYS", "-5", "a whole number of days, 1 or more"),
        ("TEMPORAL_ADDRESS", "nonsense", "host:port"),
    ],
)
def test_a_bad_setting_is_refused_in_one_line_before_anything_runs(variable: str, value: str, allowed: str) -> None:
    done = cli("worker", **{variable: value})

    assert_one_line(
        done, ExitCode.USAGE, f"activity-core worker: {variable}={value} is not allowed: {allowed}", "fix or unset it"
    )


def _commands() -> list[list[str]]:
    """One argument list per subcommand the parser knows, with what each requires."""
    required = {
        "replay-output": ["--refs", "r.json", "answer.json"],
        "show": ["1"],
        "status": ["x"],
        "feedback": ["1", "--verdict", "accept"],
        "replay": ["x"],
        "command-worker": ["--task-queue", "q", "--allow", "true"],
        "llm-connect": [],
    }
    found = []
    for name, parser in _subparsers(build_parser()).items():
        actions = _subparsers(parser)
        for action in actions or [None]:
            words = [name] + ([action] if action else [])
            found.append(words + required.get(action or name, []) + (["--html", "x.html"] if name == "report" else []))
    return found


def _subparsers(parser) -> dict:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return dict(action.choices)
    return {}


@pytest.mark.parametrize("argv", _commands(), ids=" ".join)
def test_every_command_refuses_a_bad_setting(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACTIVITY_CORE_LOG_FORMAT", "xml")
    assert main(argv) == ExitCode.USAGE
    assert "ACTIVITY_CORE_LOG_FORMAT=xml is not allowed: json or text" in capsys.readouterr().err


def test_an_unreachable_temporal_is_one_line() -> None:
    done = cli("schedules", "sync", TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")

    assert_one_line(
        done,
        ExitCode.UNAVAILABLE,
        "activity-core schedules sync: cannot reach Temporal: Connection refused",
        "check TEMPORAL_ADDRESS",
    )


def test_an_unreachable_postgresql_is_one_line_without_the_password() -> None:
    done = cli("runs", "list", DATABASE_URL=f"postgresql://triage:pw-PLANTED-93@127.0.0.1:{free_port()}/history")

    line = assert_one_line(
        done, ExitCode.UNAVAILABLE, "activity-core runs list: cannot connect to PostgreSQL", "check DATABASE_URL"
    )
    assert "pw-PLANTED-93" not in line


def test_a_missing_definitions_directory_is_a_file_problem_not_an_empty_list() -> None:
    """An empty result from a mistyped path would make `schedules sync` pause every schedule."""
    done = cli(
        "schedules", "sync", TEMPORAL_ADDRESS="127.0.0.1:7233", ACTIVITY_CORE_DEFINITIONS_DIR="/nonexistent/defs"
    )

    assert_one_line(
        done,
        ExitCode.FILE,
        "the definitions directory /nonexistent/defs does not exist",
        "ACTIVITY_CORE_DEFINITIONS_DIR",
    )


def test_a_missing_migrations_directory_is_a_file_problem(postgres_dsn: str) -> None:
    done = cli("migrate", DATABASE_URL=postgres_dsn, ACTIVITY_CORE_MIGRATIONS_DIR="/nonexistent/migrations")

    assert_one_line(done, ExitCode.FILE, "migrations directory /nonexistent/migrations does not exist")


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
    assert all(name in err for name in SERVICE_VARIABLES[:4]) and "activity-core run" in err


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


def test_an_interrupt_is_one_line_and_exit_130() -> None:
    """Ctrl-C while a command waits on a service: what a terminal sends, to the whole process group."""

    with socket.socket() as silent:  # accepts the connection, never answers: the command waits
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        environment = clean_environment(
            DATABASE_URL=f"postgresql://u@127.0.0.1:{silent.getsockname()[1]}/x", ACTIVITY_CORE_DB_TIMEOUT_SECONDS="60"
        )
        process = spawn([sys.executable, "-m", "activity_core", "migrate"], environment)
        connection, _ = silent.accept()  # the command is now waiting for PostgreSQL to speak
        try:
            os.killpg(process.pid, signal.SIGINT)
            _, err = process.communicate(timeout=30)
        finally:
            connection.close()

    assert process.returncode == ExitCode.INTERRUPTED, err
    assert err.splitlines() == ["activity-core migrate: interrupted before it finished"]
