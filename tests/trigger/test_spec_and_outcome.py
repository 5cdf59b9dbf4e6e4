"""The trigger's definition section and its judgement of a pass: pure, no servers."""

from __future__ import annotations

import re

import pytest
import yaml
from pydantic import ValidationError

from activity_core.kinds.trigger.command_activity import CommandPolicy
from activity_core.kinds.trigger.models import CommandPass, StreamCapture, TriggerPlan, TriggerStatus
from activity_core.kinds.trigger.outcome import outcome_of, refused_in_flight
from activity_core.kinds.trigger.spec import CommandSpec
from activity_core.settings import PROJECT_ROOT
from tests.trigger.conftest import SHIPPED_DEFINITION

BASE = {"argv": ["warden", "worker", "run", "--once"], "task_queue": "ops-warden-commands", "time_budget_seconds": 60}


def test_the_shipped_definition_ships_disabled_as_a_dry_run_of_the_contracted_command() -> None:
    data = yaml.safe_load(SHIPPED_DEFINITION.read_text())
    assert (data["id"], data["kind"], data["enabled"]) == ("ops-warden-worker", "trigger", False)
    assert data["schedule"]["overlap"] == "skip"
    assert data["evidence"]["progress_event_type"] == "scheduled_trigger"
    assert "note_key_pattern" not in data["evidence"]  # no note
    spec = CommandSpec.model_validate(data["command"])
    assert spec.mode == "dry_run"
    assert spec.full_argv() == ["warden", "worker", "run", "--once", "--brain", "llm", "--dry-run"]
    assert data["schedule"]["execution_timeout_seconds"] > spec.pass_timeout_seconds() + 900  # + evidence retries


def test_execute_maps_to_the_execute_flag_and_one_attempt() -> None:
    dry = CommandSpec.model_validate(BASE)
    execute = CommandSpec.model_validate({**BASE, "mode": "execute"})
    assert execute.full_argv()[-1] == "--execute"
    assert execute.pass_timeout_seconds() < dry.pass_timeout_seconds()  # one attempt, not three


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["warden worker run --once"], "looks like a shell string"),
        (["/bin/sh", "-c", "warden worker run --once"], "is a shell"),
        (["bash", "-lc", "warden"], "is a shell"),
        (["warden", "worker", "run", "--once", "--execute"], "must not contain a mode flag"),
        (["warden", ""], "non-empty string"),
        ([], "at least 1 item"),
    ],
)
def test_a_command_that_is_not_a_plain_argv_is_refused(argv: list[str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        CommandSpec.model_validate({**BASE, "argv": argv})


def test_unknown_fields_and_modes_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        CommandSpec.model_validate({**BASE, "shell": True})
    with pytest.raises(ValidationError, match="'dry_run' or 'execute'"):
        CommandSpec.model_validate({**BASE, "mode": "yolo"})


def test_the_allow_list_compares_whole_words_from_the_start() -> None:
    policy = CommandPolicy(allowed_prefixes=(("python3", "-c"),))
    assert policy.refusal(["python3", "-c", "pass"], "execute") is None
    assert "none of this command worker's allowed prefixes" in policy.refusal(["python3", "-cpass"], "dry_run")
    assert policy.refusal(["/usr/bin/python3", "-c", "pass"], "dry_run") is not None  # no PATH games
    dry_only = CommandPolicy(allowed_prefixes=(("python3",),), dry_run_only=True)
    assert "dry_run passes only" in dry_only.refusal(["python3"], "execute")
    assert "not an executable" in CommandPolicy(allowed_prefixes=(("no-such-warden",),)).refusal(
        ["no-such-warden"], "dry_run"
    )
    with pytest.raises(ValueError, match="at least one non-empty allowed argv prefix"):
        CommandPolicy(allowed_prefixes=())


PLAN = TriggerPlan(
    definition_id="ops-warden-worker",
    argv=["warden", "worker", "run", "--once", "--execute"],
    mode="execute",
    task_queue="ops-warden-commands",
    time_budget_seconds=1200,
    kill_grace_seconds=20,
    heartbeat_timeout_seconds=30,
    start_within_seconds=120,
    dry_run_max_attempts=3,
    pass_timeout_seconds=1400,
)
AUDIT = {"messages": 4, "planned": 4, "executed": 2, "escalated": 2, "failed": 0}


def _pass(
    outcome: str = "exited", exit_code: int | None = 0, audit: dict | None = AUDIT, stderr: str = ""
) -> CommandPass:
    return CommandPass(
        outcome=outcome,
        mode="execute",
        argv=PLAN.argv,
        attempt=1,
        exit_code=exit_code,
        audit=audit,
        stderr=StreamCapture(stderr, len(stderr), 0),
        detail="why" if outcome != "exited" else None,
    )


@pytest.mark.parametrize(
    ("command_pass", "status", "message"),
    [
        (_pass(), "clean", None),
        (_pass(audit=None), "partial", "without a JSON audit summary"),
        (_pass(audit={**AUDIT, "failed": 2}), "partial", "counts 2 failed action(s)"),
        (_pass(audit={**AUDIT, "failed": True}), "clean", None),  # not a count
        (_pass(exit_code=2, stderr="usage: warden\nerror: bad\n"), "failed_command_refused", "exit 2): error: bad"),
        (_pass(exit_code=1), "failed_command_error", "the command failed (exit 1)"),
        (_pass(exit_code=3), "failed_command_error", "the command failed (exit 3)"),
        (_pass(exit_code=-11), "failed_command_error", "killed by signal 11"),
        (_pass("timed_out", -9), "failed_command_timeout", "ran past its 1200 s budget"),
        (_pass("unknown", None, None), "failed_command_unknown", "outcome unknown: why"),
        (_pass("not_started", None, None), "failed_command_unreachable", "why"),
        (_pass("refused_by_worker", None, None), "failed_config", "the command worker refused the pass: why"),
    ],
)
def test_a_pass_is_judged_by_the_contract(command_pass: CommandPass, status: str, message: str | None) -> None:
    outcome = outcome_of(PLAN, command_pass)
    assert outcome.status == status
    if message is None:
        assert outcome.error_message is None
    else:
        assert message in outcome.error_message
    assert outcome.payload["status"] == status
    assert outcome.payload["failure_class"] == (status if status.startswith("failed_") else None)
    assert outcome.summary.startswith(f"ops-warden-worker (execute): {status}")
    assert outcome.result is command_pass


def test_the_summary_carries_the_exit_code_and_the_audit_counts() -> None:
    summary = outcome_of(PLAN, _pass()).summary
    assert summary == (
        "ops-warden-worker (execute): clean, exit 0; audit: messages 4, planned 4, executed 2, escalated 2, failed 0"
    )


def test_a_refused_run_names_the_pass_in_flight_and_ran_nothing() -> None:
    outcome = refused_in_flight(PLAN, "ops-warden-worker.pass")
    assert outcome.status == "failed_pass_in_flight" and outcome.result is None
    assert "ops-warden-worker.pass" in outcome.error_message and "did not start the command" in outcome.error_message
    assert outcome.payload["pass_workflow_id"] == "ops-warden-worker.pass"


def test_every_status_is_explained_in_the_runbook_and_the_adr() -> None:
    runbook = (PROJECT_ROOT / "docs" / "runbook.md").read_text()
    adr = (PROJECT_ROOT / "docs" / "adr" / "adr-006-trigger-placement.md").read_text()
    for status in TriggerStatus:
        for name, text in (("runbook", runbook), ("ADR-006", adr)):
            assert re.search(rf"^\s*\| `{status.value}` \|", text, flags=re.M), (name, status.value)
