"""Emitting a run's task specs exactly once: real PostgreSQL, the issue-core emulator over HTTP.

Unless a test says otherwise the emulator ignores Idempotency-Key (``strict_issue_core``):
every create it receives is a new task, so one task at the end means our code, not the
service, kept it single. The request counts asserted here are the ones the report quotes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable

import asyncpg
import pytest

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.devstack.issue_core_emulator import IssueCoreEmulator
from activity_core.settings import PROJECT_ROOT, SinkType
from activity_core.store.tasks import SpawnRow, TaskSpawnLog
from activity_core.tasks.emission import EmissionSummary, TaskEmitter
from activity_core.tasks.spec import SpawnState
from tests.tasks.support import DAY_1, DAY_2, DAY_3, batch, block, three_picks

pytestmark = pytest.mark.integration

Emitter = Callable[..., TaskEmitter]


def requests(emulator: IssueCoreEmulator) -> Counter[str]:
    return Counter(r.route or "unrouted" for r in emulator.requests())


def states(summary: EmissionSummary) -> list[str]:
    return [task.state for task in summary.tasks]


async def rows(spawn_log: TaskSpawnLog, summary: EmissionSummary) -> list[SpawnRow]:
    return await spawn_log.rows_of_run(summary.workflow_id, summary.run_id)


# --- null and dry_run: nothing leaves -------------------------------------------------------


async def test_null_logs_the_specs_and_sends_nothing(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    summary = await emitter(SinkType.NULL).emit(batch(three_picks(), run_id="r1"))
    assert summary.sink == "null" and states(summary) == ["planned"] * 3
    assert summary.pending == 0 and not summary.needs_retry and summary.clean
    logged = await rows(spawn_log, summary)
    assert all(r.sink is SinkType.NULL and r.requested_sink is SinkType.REST and r.finished_at for r in logged)
    assert all(r.idempotency_key and r.payload_hash and r.spec and r.request is None for r in logged)
    assert strict_issue_core.requests() == []


async def test_dry_run_logs_the_exact_request_that_rest_then_sends(
    emitter: Emitter,
    spawn_log: TaskSpawnLog,
    pool: asyncpg.Pool,
    strict_issue_core: IssueCoreEmulator,
    issue_core_token: str,
) -> None:
    dry = await emitter(SinkType.DRY_RUN).emit(batch(three_picks(), run_id="r1"))
    assert states(dry) == ["dry_run"] * 3 and strict_issue_core.requests() == []
    logged = [r.request for r in await rows(spawn_log, dry)]
    assert all(issue_core_token not in str(request) for request in logged)

    # The same run under rest, as a deployment without the dry run's rows would emit it.
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM task_spawn_log")
    await emitter(SinkType.REST).emit(batch(three_picks(), run_id="r1"))
    sent = [
        {
            "method": r.method,
            "path": r.path,
            "headers": {"Idempotency-Key": r.headers["idempotency-key"]},
            "body": r.json(),
        }
        for r in strict_issue_core.requests("tasks_create")
    ]
    assert sent == logged


async def test_the_ceiling_null_overrides_a_definition_set_to_rest_and_rest_needs_the_opt_in(
    emitter: Emitter, strict_issue_core: IssueCoreEmulator
) -> None:
    overridden = await emitter(SinkType.NULL).emit(batch(three_picks(), run_id="r1", tasks_block=block(sink="rest")))
    not_opted_in = await emitter(SinkType.REST).emit(batch(three_picks(), run_id="r2", tasks_block=block(sink="null")))
    halfway = await emitter(SinkType.DRY_RUN).emit(batch(three_picks(), run_id="r3", tasks_block=block(sink="rest")))
    assert (overridden.sink, not_opted_in.sink, halfway.sink) == ("null", "null", "dry_run")
    assert strict_issue_core.requests() == []


# --- rest: exactly once -----------------------------------------------------------------------


async def test_rest_creates_exactly_the_expected_tasks_and_logs_their_references(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    summary = await emitter().emit(batch(three_picks(), run_id="r1"))
    assert states(summary) == ["created"] * 3 and summary.clean
    tasks = strict_issue_core.tasks()
    assert [t["key"] for t in tasks] == ["ISSUE-1", "ISSUE-2", "ISSUE-3"]
    logged = await rows(spawn_log, summary)
    assert [(r.task_id, r.task_key, r.task_url) for r in logged] == [(t["id"], t["key"], t["url"]) for t in tasks]
    assert [r.idempotency_key for r in logged] == [t["external_key"] for t in tasks]
    assert all(
        (r.idempotency_key or "").endswith(":e1") and r.attempts == 1 and r.sent_key == r.idempotency_key
        for r in logged
    )
    assert requests(strict_issue_core) == {"tasks_find": 3, "tasks_create": 3}


async def test_the_same_run_again_and_another_run_of_the_same_day_create_nothing(
    emitter: Emitter, strict_issue_core: IssueCoreEmulator
) -> None:
    first = await emitter().emit(batch(three_picks(), run_id="r1"))
    filed = strict_issue_core.tasks()
    before = requests(strict_issue_core)
    assert states(first) == ["created"] * 3 and len(filed) == 3

    again = await emitter().emit(batch(three_picks(), run_id="r1"))  # a retried activity: every row finished
    assert again == first and requests(strict_issue_core) == before

    manual = await emitter().emit(batch(three_picks(), run_id="r-manual"))  # a manual re-run or a backfill, same day
    assert states(manual) == ["duplicate"] * 3
    assert [t.ref for t in manual.tasks] == [t.ref for t in first.tasks]
    assert requests(strict_issue_core) - before == {"tasks_find": 3}
    assert strict_issue_core.tasks() == filed


async def test_a_recurrence_while_the_task_is_open_is_a_duplicate_and_after_closing_a_new_episode(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    (pick, *_) = three_picks()
    day1 = await emitter().emit(batch([pick], run_id="d1", local_date=DAY_1))
    day2 = await emitter().emit(batch([pick], run_id="d2", local_date=DAY_2))
    assert (states(day1), states(day2)) == (["created"], ["duplicate"])
    assert day2.tasks[0].ref == day1.tasks[0].ref == "ISSUE-1"

    strict_issue_core.close_task("ISSUE-1")
    before = requests(strict_issue_core)
    day3 = await emitter().emit(batch([pick], run_id="d3", local_date=DAY_3))
    assert states(day3) == ["created"] and day3.tasks[0].ref == "ISSUE-2"
    assert day3.tasks[0].idempotency_key == (day1.tasks[0].idempotency_key or "").replace(":e1", ":e2")
    assert requests(strict_issue_core) - before == {"tasks_find": 2, "tasks_create": 1}  # e1 closed, e2 free

    before = requests(strict_issue_core)
    day4 = await emitter().emit(batch([pick], run_id="d4", local_date=DAY_3.replace(day=29)))
    assert states(day4) == ["duplicate"] and day4.tasks[0].ref == "ISSUE-2"
    assert requests(strict_issue_core) - before == {"tasks_find": 1}  # the walk starts at the newest episode
    assert [(r.episode, r.state) for r in await rows(spawn_log, day4)] == [(2, SpawnState.DUPLICATE)]


async def test_on_recurrence_comment_comments_once_per_day_and_not_on_the_day_it_was_filed(
    emitter: Emitter, strict_issue_core: IssueCoreEmulator
) -> None:
    (pick, *_) = three_picks()
    commenting = block(on_recurrence="comment")
    await emitter().emit(batch([pick], run_id="d1", local_date=DAY_1, tasks_block=commenting))
    same_day = await emitter().emit(batch([pick], run_id="d1-again", local_date=DAY_1, tasks_block=commenting))
    assert states(same_day) == ["duplicate"] and strict_issue_core.comments() == []

    before = requests(strict_issue_core)
    day2 = await emitter().emit(batch([pick], run_id="d2", local_date=DAY_2, tasks_block=commenting))
    day2_again = await emitter().emit(batch([pick], run_id="d2-again", local_date=DAY_2, tasks_block=commenting))
    assert states(day2) == states(day2_again) == ["commented"]
    (comment,) = strict_issue_core.comments()
    assert comment["external_key"] == f"{day2.tasks[0].idempotency_key}:c2026-06-27"
    assert comment["body_markdown"].startswith("Recommended again (rank 1, WSJF 8.67) by the 2026-06-27 run")
    assert requests(strict_issue_core) - before == {"tasks_find": 2, "comments_find": 2, "comments_create": 1}
    assert len(strict_issue_core.tasks()) == 1


async def test_an_ambiguous_comment_is_looked_up_before_it_is_posted_again(
    emitter: Emitter, strict_issue_core: IssueCoreEmulator
) -> None:
    (pick, *_) = three_picks()
    commenting = block(on_recurrence="comment")
    await emitter().emit(batch([pick], run_id="d1", local_date=DAY_1, tasks_block=commenting))
    strict_issue_core.queue_faults("comments_create", "apply_then_500")
    lost = await emitter().emit(batch([pick], run_id="d2", local_date=DAY_2, tasks_block=commenting))
    assert states(lost) == ["unknown"] and lost.tasks[0].ref == "ISSUE-1"  # the task it was commenting on
    before = requests(strict_issue_core)
    settled = await emitter().emit(batch([pick], run_id="d2", local_date=DAY_2, tasks_block=commenting))
    assert states(settled) == ["commented"] and len(strict_issue_core.comments()) == 1
    assert requests(strict_issue_core) - before == {"tasks_find": 1, "comments_find": 1}


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["apply_then_500", "slow:1.5"])
async def test_an_ambiguous_create_is_unknown_then_reconciled_by_lookup_to_one_created_task(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator, fault: str
) -> None:
    """apply_then_500: stored, then the answer lost. slow:1.5 against the 2 s client timeout
    is no timeout, so the slow case uses a 0.5 s client: stored after the client gave up."""
    (pick, *_) = three_picks()
    strict_issue_core.queue_faults("tasks_create", fault)
    async with IssueCoreClient(strict_issue_core.url, token=strict_issue_core.token, timeout_seconds=0.5) as impatient:
        first = await emitter(client=impatient).emit(batch([pick], run_id="r1"))
    assert states(first) == ["unknown"] and first.needs_retry and not first.clean
    (row,) = await rows(spawn_log, first)
    assert row.error_class == "IssueCoreAmbiguous" and row.finished_at is None and row.attempts == 1

    for _ in range(50):  # the slow create lands after the client gave up
        if strict_issue_core.tasks():
            break
        await asyncio.sleep(0.1)
    second = await emitter().emit(batch([pick], run_id="r1"))  # the activity's retry
    assert states(second) == ["created"] and second.clean and not second.needs_retry
    (task,) = strict_issue_core.tasks()
    assert second.tasks[0].ref == task["key"]
    (row,) = await rows(spawn_log, second)
    assert (row.attempts, row.error_class, row.error_message) == (1, None, None)
    assert requests(strict_issue_core) == {"tasks_find": 2, "tasks_create": 1}


async def test_503s_then_healthy_create_once(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    (pick, *_) = three_picks()
    strict_issue_core.queue_faults("tasks_create", "http_503", "http_503")
    strict_issue_core.queue_faults("tasks_find", "http_503")
    outcomes = []
    for _ in range(4):
        summary = await emitter().emit(batch([pick], run_id="r1"))
        outcomes.append(states(summary)[0])
    # a failed lookup leaves the row planned; each 503 on a create may have applied: unknown, looked up next time
    assert outcomes == ["planned", "unknown", "unknown", "created"]
    assert len(strict_issue_core.tasks()) == 1
    (row,) = await rows(spawn_log, summary)
    assert row.attempts == 3
    assert requests(strict_issue_core) == {"tasks_find": 4, "tasks_create": 3}
    assert await emitter().emit(batch([pick], run_id="r1")) == summary  # settled: nothing more is asked


async def test_a_422_fails_the_spec_with_the_message_and_is_not_retried(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    picks = three_picks()[:2]
    strict_issue_core.queue_faults("tasks_create", "validation_error")
    summary = await emitter().emit(batch(picks, run_id="r1"))
    assert states(summary) == ["failed", "created"]
    assert not summary.clean and not summary.needs_retry and summary.counts["failed"] == 1
    failed, _ = await rows(spawn_log, summary)
    assert failed.error_class == "IssueCoreRejected"
    assert "answered 422: validation_error: emulated: the task was refused" in (failed.error_message or "")
    before = requests(strict_issue_core)
    await emitter().emit(batch(picks, run_id="r1"))
    assert requests(strict_issue_core) == before and len(strict_issue_core.tasks()) == 1


async def test_two_runs_of_the_same_day_at_once_file_each_task_once(
    emitter: Emitter, strict_issue_core: IssueCoreEmulator
) -> None:
    strict_issue_core.queue_faults("tasks_create", "slow:0.3", "slow:0.3", "slow:0.3")
    left, right = await asyncio.gather(
        emitter().emit(batch(three_picks(), run_id="scheduled")), emitter().emit(batch(three_picks(), run_id="manual"))
    )
    assert sorted(states(left) + states(right)) == ["created"] * 3 + ["duplicate"] * 3
    assert len(strict_issue_core.tasks()) == 3


async def test_a_ceiling_lowered_to_null_sends_nothing_more_and_keeps_what_was_filed(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    """The rollback: references stay in the log; an unfinished spec is not sent after it."""
    picks = three_picks()[:2]
    strict_issue_core.queue_faults("tasks_create", "http_503")  # the first spec ends unknown
    await emitter().emit(batch(picks, run_id="r1"))
    strict_issue_core.queue_faults("tasks_find", "http_503")
    partly = await emitter().emit(batch(picks + three_picks()[2:3], run_id="r2"))
    assert states(partly) == ["planned", "duplicate", "created"]

    before = requests(strict_issue_core)
    rolled_back = await emitter(SinkType.NULL).emit(batch(picks + three_picks()[2:3], run_id="r2"))
    assert states(rolled_back) == ["planned", "duplicate", "created"] and rolled_back.pending == 0
    assert [t.ref for t in rolled_back.tasks][1:] == [t.ref for t in partly.tasks][1:]
    still_unknown = await emitter(SinkType.NULL).emit(batch(picks, run_id="r1"))
    assert states(still_unknown)[0] == "unknown" and still_unknown.pending == 1 and not still_unknown.needs_retry
    assert requests(strict_issue_core) == before


# --- what never leaves, what never stays --------------------------------------------------------


async def test_review_required_is_never_in_a_request_body(
    emitter: Emitter, spawn_log: TaskSpawnLog, strict_issue_core: IssueCoreEmulator
) -> None:
    tasks_block = block(review_required=True, on_recurrence="comment")
    first = await emitter().emit(batch(three_picks(), run_id="d1", tasks_block=tasks_block))
    await emitter().emit(batch(three_picks(), run_id="d2", local_date=DAY_2, tasks_block=tasks_block))
    sent = strict_issue_core.requests()
    assert Counter(r.route for r in sent)["comments_create"] == 3
    assert all("review_required" not in r.text for r in sent)
    assert all(t.review_required for t in first.tasks)
    assert all(r.review_required for r in await rows(spawn_log, first))


async def test_a_planted_token_appears_in_no_row_log_line_or_message(
    emitter: Emitter,
    pool: asyncpg.Pool,
    strict_issue_core: IssueCoreEmulator,
    issue_core_token: str,
    scrub: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    echoing = f"As the header said: Bearer {issue_core_token}."  # a model that echoes the token
    strict_issue_core.queue_faults("tasks_create", "echo_request_500")  # a service that echoes the request
    first = await emitter().emit(batch(three_picks(), run_id="r1", rationale=echoing, scrub=scrub))
    assert states(first)[0] == "unknown"
    echoed = first.tasks[0].error or ""
    assert "request body" in echoed and "As the header said: Bearer ***" in echoed
    await emitter().emit(batch(three_picks(), run_id="r1", rationale=echoing, scrub=scrub))
    await emitter(SinkType.DRY_RUN).emit(batch(three_picks(), run_id="r2", rationale=echoing, scrub=scrub))

    async with pool.acquire() as conn:
        stored = await conn.fetch("SELECT row_to_json(t)::text AS row FROM task_spawn_log t")
    leaked = [r["row"] for r in stored if issue_core_token in r["row"]]
    assert len(stored) == 6 and leaked == []
    assert any("***" in r["row"] for r in stored)  # the echo was there, and blanked
    assert "issue-core call failed" in caplog.text and issue_core_token not in caplog.text
    assert all(issue_core_token not in r.text for r in strict_issue_core.requests())
    assert all(issue_core_token not in str(t) for t in strict_issue_core.tasks())


async def test_a_worker_killed_between_send_and_record_leaves_one_task(
    emitter: Emitter, spawn_log: TaskSpawnLog, fresh_database: str, pool: asyncpg.Pool,
    strict_issue_core: IssueCoreEmulator, issue_core_token: str,
) -> None:  # fmt: skip
    """A real process, SIGKILLed while its create is in flight (held by a slow: fault, which
    the emulator still applies), then the activity's retry in another process."""
    one_spec = batch(three_picks()[:1], run_id="r1")
    strict_issue_core.queue_faults("tasks_create", "slow:1.5")
    environment = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "ISSUE_SINK_TYPE": "rest",
        "ISSUE_CORE_URL": strict_issue_core.url,
        "ISSUE_CORE_TOKEN": issue_core_token,
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.tasks.emit_in_subprocess", "r1", cwd=PROJECT_ROOT, env=environment
    )
    try:
        for _ in range(200):
            if strict_issue_core.requests("tasks_create") or worker.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert strict_issue_core.requests("tasks_create"), "the worker never sent its create"
        worker.send_signal(signal.SIGKILL)
    finally:
        await asyncio.wait_for(worker.wait(), timeout=10)
    assert worker.returncode == -signal.SIGKILL
    (killed,) = await spawn_log.rows_of_run(one_spec.workflow_id, one_spec.run_id)
    assert (killed.state, killed.attempts, killed.sent_key) == (SpawnState.PLANNED, 1, killed.idempotency_key)

    for _ in range(50):
        if strict_issue_core.tasks():
            break
        await asyncio.sleep(0.1)
    retried = await emitter().emit(one_spec)
    (task,) = strict_issue_core.tasks()
    assert states(retried) == ["created"] and retried.tasks[0].ref == task["key"]
    assert requests(strict_issue_core) == {"tasks_find": 2, "tasks_create": 1}
