"""The trigger end to end on real Temporal: the command worker as a process, the stand-in as the
command, the progress event over HTTP to the State Hub emulator."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError

from activity_core.kinds.trigger.in_flight import pass_in_flight
from activity_core.kinds.trigger.models import CommandPass, CommandRequest
from activity_core.kinds.trigger.workflow import pass_workflow_id
from tests.trigger.conftest import TriggerHarness
from tests.trigger.support import PLANTED_SECRET, SECRET_VARIABLE, alive, read_pid, standin_argv, starts, wait_for
from tests.trigger.workflows import RetryingExecuteInput, RetryingExecuteWorkflow

pytestmark = pytest.mark.integration


def payload_texts(history: dict) -> str:
    """Every payload of a history, decoded: its JSON form holds them base64-encoded."""

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict):
                yield base64.b64decode(node["data"]).decode("utf-8", errors="replace")
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    return "\n".join(walk(history))


async def test_a_dry_run_pass_runs_once_and_reports_exit_audit_and_event(trigger: TriggerHarness) -> None:
    starts_file = trigger.tmp_path / "starts"
    definition_id = trigger.define(standin_argv("--starts-file", starts_file))
    outcome, handle = await trigger.run(definition_id)

    assert outcome.status == "clean", outcome
    assert outcome.error_message is None
    result = outcome.result
    assert result.outcome == "exited" and result.exit_code == 0 and result.mode == "dry_run"
    assert result.argv[-1] == "--dry-run" and result.attempt == 1
    assert result.audit == {"messages": 4, "planned": 4, "executed": 0, "escalated": 2, "failed": 0}
    assert result.pass_workflow_id == pass_workflow_id(definition_id)
    assert [s["mode"] for s in starts(starts_file)] == ["dry_run"]
    (event,) = trigger.events(handle.id)
    assert event["event_type"] == "scheduled_trigger"
    assert event["payload"]["exit_code"] == 0 and event["payload"]["audit"] == result.audit
    assert event["payload"]["status"] == "clean" and event["payload"]["mode"] == "dry_run"
    assert "exit 0" in event["summary"] and "executed 0" in event["summary"]


async def test_an_execute_pass_passes_the_execute_flag(trigger: TriggerHarness) -> None:
    starts_file = trigger.tmp_path / "starts"
    outcome, _ = await trigger.run(trigger.define(standin_argv("--starts-file", starts_file), mode="execute"))
    assert outcome.status == "clean"
    assert outcome.result.argv[-1] == "--execute" and outcome.result.audit["executed"] == 2
    assert [s["mode"] for s in starts(starts_file)] == ["execute"]


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        (2, "failed_command_refused", "the command refused the pass (exit 2): warden worker: refusing"),
        (1, "failed_command_error", "the command failed (exit 1): warden worker: State Hub answered 503"),
    ],
)
async def test_exit_2_and_1_are_failures_of_the_command(
    trigger: TriggerHarness, code: int, status: str, words: str
) -> None:
    outcome, handle = await trigger.run(trigger.define(standin_argv("--exit", code), mode="execute"))
    assert outcome.status == status
    assert outcome.error_message.startswith(words)
    assert outcome.result.exit_code == code and outcome.result.attempt == 1  # a command failure is not retried
    (event,) = trigger.events(handle.id)
    assert event["payload"]["failure_class"] == status and event["payload"]["exit_code"] == code


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        (("--no-audit",), "without a JSON audit summary"),
        (("--failed-actions", 1), "audit summary counts 1 failed action(s)"),
    ],
)
async def test_a_completed_pass_with_incomplete_evidence_is_partial(
    trigger: TriggerHarness, knobs, message: str
) -> None:
    outcome, _ = await trigger.run(trigger.define(standin_argv(*knobs)))
    assert outcome.status == "partial" and message in outcome.error_message


async def test_a_pass_past_its_budget_is_killed_with_its_whole_group(trigger: TriggerHarness) -> None:
    pid_file, helper = trigger.tmp_path / "pid", trigger.tmp_path / "helper"
    definition_id = trigger.define(
        standin_argv("--pid-file", pid_file, "--hang", 120, "--ignore-sigterm", "--spawn-helper", helper),
        mode="execute",
        time_budget_seconds=2,
    )
    outcome, _ = await trigger.run(definition_id)

    assert outcome.status == "failed_command_timeout"
    assert "ran past its 2 s budget" in outcome.error_message
    assert outcome.result.killed_process_group and outcome.result.exit_code == -9
    assert not alive(read_pid(pid_file)) and not alive(read_pid(helper))


async def test_cancelling_the_run_kills_the_command(trigger: TriggerHarness) -> None:
    starts_file, helper = trigger.tmp_path / "starts", trigger.tmp_path / "helper"
    definition_id = trigger.define(
        standin_argv("--starts-file", starts_file, "--hang", 120, "--ignore-sigterm", "--spawn-helper", helper),
        mode="execute",
    )
    handle = await trigger.start(definition_id)
    await wait_for(lambda: starts(starts_file) and helper.exists() and helper.read_text(), what="the pass to start")
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    (started,) = starts(starts_file)
    assert not alive(started["pid"]) and not alive(read_pid(helper))
    pass_handle = trigger.client.get_workflow_handle(pass_workflow_id(definition_id))
    assert (await pass_handle.describe()).status.name == "CANCELED"


async def test_output_over_the_bound_is_cut_and_the_cut_is_marked(trigger: TriggerHarness) -> None:
    outcome, handle = await trigger.run(trigger.define(standin_argv("--flood", 500_000)))
    assert outcome.status == "clean"  # the audit line, last, survives the cut
    for capture in (outcome.result.stdout, outcome.result.stderr):
        assert capture.total_bytes > 500_000 and capture.cut_bytes == capture.total_bytes - 64 * 1024
        assert f"[activity-core: {capture.cut_bytes} bytes cut here;" in capture.text
    (event,) = trigger.events(handle.id)
    assert event["payload"]["stdout_bytes"] == outcome.result.stdout.total_bytes
    assert len(event["payload"]["stderr_tail"]) <= 1024


async def test_a_planted_secret_is_redacted_everywhere_it_goes(trigger: TriggerHarness) -> None:
    definition_id = trigger.define(standin_argv("--print-secret", SECRET_VARIABLE, "--flood", 200_000, "--exit", 1))
    outcome, handle = await trigger.run(definition_id)

    assert outcome.status == "failed_command_error"
    assert outcome.result.redactions >= 2
    assert "[redacted $STANDIN_STATE_HUB_TOKEN]" in outcome.result.stdout.text
    pass_handle = trigger.client.get_workflow_handle(pass_workflow_id(definition_id))
    places = {
        "run history": payload_texts((await handle.fetch_history()).to_json_dict()),
        "pass history": payload_texts((await pass_handle.fetch_history()).to_json_dict()),
        "event": json.dumps(trigger.events(handle.id)),
        "row": json.dumps(outcome.record.result),
        "summary": outcome.summary,
        "error": outcome.error_message or "",
        "command worker log": trigger.command_worker.output(),
    }
    for place, text in places.items():
        assert PLANTED_SECRET not in text, place
    for place in ("run history", "pass history", "event", "row"):
        assert "[redacted $STANDIN_STATE_HUB_TOKEN]" in places[place], place  # the checks above saw the output


async def test_two_runs_at_once_make_one_pass(trigger: TriggerHarness) -> None:
    starts_file = trigger.tmp_path / "starts"
    definition_id = trigger.define(standin_argv("--starts-file", starts_file, "--hang", 3), mode="execute")
    first = await trigger.start(definition_id)
    await wait_for(lambda: starts(starts_file), what="the first pass")
    in_flight = await pass_in_flight(trigger.client, definition_id)
    assert in_flight is not None and in_flight.run_workflow_id == first.id
    assert first.id in in_flight.describe()

    second = await trigger.start(definition_id)  # a manual start with a new id, like `temporal workflow start`
    refused, done = await asyncio.gather(trigger.outcome(second), trigger.outcome(first))

    assert refused.status == "failed_pass_in_flight" and refused.result is None
    (event,) = trigger.events(second.id)
    assert event["payload"]["pass_workflow_id"] == pass_workflow_id(definition_id)
    assert pass_workflow_id(definition_id) in refused.error_message
    assert done.status == "clean"
    assert len(starts(starts_file)) == 1
    assert await pass_in_flight(trigger.client, definition_id) is None


async def test_simultaneous_starts_make_one_pass(trigger: TriggerHarness) -> None:
    starts_file = trigger.tmp_path / "starts"
    definition_id = trigger.define(standin_argv("--starts-file", starts_file, "--hang", 1), mode="execute")
    handles = await asyncio.gather(*(trigger.start(definition_id) for _ in range(3)))
    outcomes = await asyncio.gather(*(trigger.outcome(h) for h in handles))
    assert sorted(o.status for o in outcomes) == ["clean", "failed_pass_in_flight", "failed_pass_in_flight"]
    assert len(starts(starts_file)) == 1


async def test_an_argv_outside_the_allow_list_is_refused_by_the_command_worker(trigger: TriggerHarness) -> None:
    outcome, _ = await trigger.run(trigger.define(["/bin/echo", "worker", "run", "--once"]))
    assert outcome.status == "failed_config"
    assert "starts with none of this command worker's allowed prefixes" in outcome.error_message


async def test_no_command_worker_means_never_started(trigger: TriggerHarness) -> None:
    starts_file = trigger.tmp_path / "starts"
    definition_id = trigger.define(
        standin_argv("--starts-file", starts_file),
        mode="execute",
        task_queue=f"nobody-{uuid.uuid4().hex[:6]}",
        start_within_seconds=5,
    )
    outcome, _ = await trigger.run(definition_id)
    assert outcome.status == "failed_command_unreachable"
    assert "never started" in outcome.error_message and "activity-core command-worker" in outcome.error_message
    assert starts(starts_file) == []


async def test_a_missing_definition_ends_failed_config_with_its_row(trigger: TriggerHarness) -> None:
    handle = await trigger.start("trig-does-not-exist")
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    cause = failure.value.cause  # the lifecycle ends the workflow Failed, after the row
    assert isinstance(cause, ApplicationError) and cause.type == "failed_config"
    assert "no definition 'trig-does-not-exist'" in cause.message
    outcome = await trigger.outcome(handle)
    assert outcome.record.status == "failed_config" and outcome.result is None
    assert trigger.events(handle.id) == []  # nothing ran, so there is nothing to report to State Hub


async def test_a_dry_run_only_command_worker_refuses_execute(trigger: TriggerHarness, command_workers) -> None:
    queue = f"dry-only-{uuid.uuid4().hex[:6]}"
    await command_workers.start(queue, "--dry-run-only")
    starts_file = trigger.tmp_path / "starts"
    execute, _ = await trigger.run(
        trigger.define(standin_argv("--starts-file", starts_file), mode="execute", task_queue=queue)
    )
    dry, _ = await trigger.run(trigger.define(standin_argv("--starts-file", starts_file), task_queue=queue))
    assert execute.status == "failed_config" and "dry_run passes only" in execute.error_message
    assert dry.status == "clean"
    assert [s["mode"] for s in starts(starts_file)] == ["dry_run"]


async def test_a_command_worker_killed_mid_execute_does_not_start_it_twice(
    trigger: TriggerHarness, command_workers
) -> None:
    doomed = await command_workers.start(f"doomed-{uuid.uuid4().hex[:6]}")
    starts_file = trigger.tmp_path / "starts"
    argv = standin_argv("--starts-file", starts_file, "--hang", 30)
    handle = await trigger.start(trigger.define(argv, mode="execute", task_queue=doomed.task_queue))
    await wait_for(lambda: starts(starts_file), what="the pass to start")
    await command_workers.kill_and_replace(doomed)

    outcome = await trigger.outcome(handle)
    assert outcome.status == "failed_command_unknown"
    assert "never started twice" in outcome.error_message and "heartbeat timeout" in outcome.error_message
    (started,) = starts(starts_file)
    await wait_for(lambda: not alive(started["pid"]), timeout=5, what="the orphaned pass to die with its worker")


async def test_a_command_worker_stopped_mid_execute_drains_then_stops_the_pass_once(
    trigger: TriggerHarness, command_workers
) -> None:
    draining = await command_workers.start(f"draining-{uuid.uuid4().hex[:6]}", graceful_seconds=1)
    starts_file = trigger.tmp_path / "starts"
    argv = standin_argv("--starts-file", starts_file, "--hang", 60)
    handle = await trigger.start(trigger.define(argv, mode="execute", task_queue=draining.task_queue))
    await wait_for(lambda: starts(starts_file), what="the pass to start")
    draining.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(draining.process.wait, 30) == 0, draining.output()
    (started,) = starts(starts_file)
    assert not alive(started["pid"])

    outcome = await trigger.outcome(handle)
    assert outcome.status == "failed_command_unknown"
    assert "stopped the pass (worker shutdown)" in outcome.error_message
    assert "never started twice" in outcome.error_message
    assert len(starts(starts_file)) == 1


async def test_a_dry_run_pass_is_retried_after_its_command_worker_is_killed(
    trigger: TriggerHarness, command_workers
) -> None:
    doomed = await command_workers.start(f"doomed-dry-{uuid.uuid4().hex[:6]}")
    starts_file = trigger.tmp_path / "starts"
    # Each attempt takes 4 s; the kill cuts the first one short.
    handle = await trigger.start(
        trigger.define(standin_argv("--starts-file", starts_file, "--hang", 4), task_queue=doomed.task_queue)
    )
    await wait_for(lambda: starts(starts_file), what="the first attempt")
    await command_workers.kill_and_replace(doomed)

    outcome = await trigger.outcome(handle)
    assert outcome.status == "clean" and outcome.result.attempt == 2
    assert [s["mode"] for s in starts(starts_file)] == ["dry_run", "dry_run"]


async def test_the_command_worker_itself_never_repeats_an_execute_attempt(
    trigger: TriggerHarness, command_workers
) -> None:
    """Even when a workflow (wrongly) retries an execute pass, the executing side refuses."""
    doomed = await command_workers.start(f"guard-{uuid.uuid4().hex[:6]}")
    starts_file = Path(trigger.tmp_path / "starts")
    request = CommandRequest(
        definition_id="guard",
        run_workflow_id="guard-run",
        argv=[*standin_argv("--starts-file", starts_file, "--hang", 30), "--execute"],
        mode="execute",
        time_budget_seconds=60,
        kill_grace_seconds=1,
    )
    handle = await trigger.client.start_workflow(
        RetryingExecuteWorkflow.run,
        RetryingExecuteInput(request, doomed.task_queue, heartbeat_seconds=2),
        id=f"guard-{uuid.uuid4().hex[:6]}",
        task_queue=trigger.task_queue + "-misconfigured",
        result_type=CommandPass,
    )
    await wait_for(lambda: starts(starts_file), what="the first attempt")
    await command_workers.kill_and_replace(doomed)

    result = await handle.result()
    assert result.outcome == "unknown" and result.attempt == 2
    assert "an earlier attempt may have started it" in result.detail and "'pid'" in result.detail
    assert len(starts(starts_file)) == 1
