"""The runner on real processes: exit codes, the budget, cancellation, and no orphan left."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from activity_core.kinds.trigger.capture import secret_forms
from activity_core.kinds.trigger.runner import EXEC_FAILED_EXIT, group_members, run_bounded
from tests.trigger.support import PLANTED_SECRET, alive, read_pid, standin_argv, starts, wait_for

FORMS = secret_forms({"STANDIN_STATE_HUB_TOKEN": PLANTED_SECRET})


async def _run(argv: list[str], *, budget: float = 20.0, grace: float = 1.0, pids: list[int] | None = None):
    return await run_bounded(
        argv,
        budget_seconds=budget,
        kill_grace_seconds=grace,
        secret_forms=FORMS,
        on_started=(pids.append if pids is not None else lambda pid: None),
    )


async def test_a_pass_that_completes_reports_exit_output_and_audit(tmp_path: Path) -> None:
    finished = await _run(standin_argv("--starts-file", tmp_path / "starts", "--dry-run"))
    assert finished.exit_code == 0 and not finished.timed_out and not finished.killed_process_group
    assert finished.audit == {"messages": 4, "planned": 4, "executed": 0, "escalated": 2, "failed": 0}
    assert "4 unread message(s)" in finished.stdout.text
    assert [s["mode"] for s in starts(tmp_path / "starts")] == ["dry_run"]


@pytest.mark.parametrize("code", [1, 2, 3])
async def test_exit_codes_are_reported_as_they_are(code: int) -> None:
    finished = await _run(standin_argv("--exit", code, "--execute"))
    assert finished.exit_code == code
    assert finished.stderr.text.strip()


async def test_a_usage_error_exits_2() -> None:
    finished = await _run(standin_argv("--dry-run", "--execute"))
    assert finished.exit_code == 2 and "not allowed with argument" in finished.stderr.text


async def test_a_command_that_cannot_be_executed_exits_127() -> None:
    finished = await _run(["/nonexistent/warden", "worker", "run"])
    assert finished.exit_code == EXEC_FAILED_EXIT
    assert "cannot execute '/nonexistent/warden'" in finished.stderr.text


async def test_past_its_budget_the_whole_group_is_killed_even_if_it_ignores_sigterm(tmp_path: Path) -> None:
    helper = tmp_path / "helper.pid"
    pids: list[int] = []
    finished = await _run(
        standin_argv("--hang", 60, "--ignore-sigterm", "--spawn-helper", helper, "--dry-run"),
        budget=1.5,
        grace=0.5,
        pids=pids,
    )
    assert finished.timed_out and finished.killed_process_group
    assert finished.exit_code == -9  # SIGTERM was ignored; SIGKILL after the grace
    assert 1.5 <= finished.duration_ms / 1000 < 10
    assert not alive(pids[0]) and not alive(read_pid(helper))
    assert group_members(pids[0]) == []


async def test_leftovers_of_a_finished_command_are_stopped(tmp_path: Path) -> None:
    helper = tmp_path / "helper.pid"
    pids: list[int] = []
    finished = await _run(standin_argv("--spawn-helper", helper, "--dry-run"), grace=0.5, pids=pids)
    assert finished.exit_code == 0 and not finished.timed_out
    assert finished.killed_process_group  # the helper was still there
    assert not alive(read_pid(helper))


async def test_cancelling_stops_the_process_group_before_the_cancellation_goes_on(tmp_path: Path) -> None:
    helper = tmp_path / "helper.pid"
    pids: list[int] = []
    task = asyncio.ensure_future(
        _run(
            standin_argv("--hang", 60, "--ignore-sigterm", "--spawn-helper", helper, "--execute"), grace=0.5, pids=pids
        )
    )
    await wait_for(lambda: helper.exists() and helper.read_text(), what="the helper's pid")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alive(pids[0]) and not alive(read_pid(helper))


async def test_output_is_redacted_and_bounded_before_it_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_STATE_HUB_TOKEN", PLANTED_SECRET)  # the child inherits it, as in a pod
    finished = await _run(standin_argv("--print-secret", "STANDIN_STATE_HUB_TOKEN", "--flood", 300_000, "--dry-run"))
    for capture in (finished.stdout, finished.stderr):
        assert PLANTED_SECRET not in capture.text
        assert capture.total_bytes > 300_000 and capture.cut_bytes > 0
        assert len(capture.text.encode()) < 64 * 1024 + 200
        assert f"{capture.cut_bytes} bytes cut here" in capture.text
    assert "[redacted $STANDIN_STATE_HUB_TOKEN]" in finished.stdout.text
    assert finished.redactions >= 2 + 2 * 30  # the two debug lines, and ~30 plants in each flood
    assert finished.audit is not None and finished.audit["messages"] == 4
