"""``activity-core tasks list|show`` as an operator runs them, on a log real emissions wrote."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from activity_core.cli import main
from activity_core.devstack.issue_core_emulator import IssueCoreEmulator
from activity_core.settings import SinkType
from tests.tasks.support import DAY_1, DAY_2, batch, block, three_picks

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], issue_core_token: str
):
    monkeypatch.setenv("DATABASE_URL", fresh_database)

    async def run(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(main, list(argv))
        out, err = capsys.readouterr()
        assert issue_core_token not in out + err
        return code, out, err

    return run


@pytest.fixture
async def emitted(emitter, strict_issue_core: IssueCoreEmulator, pool: asyncpg.Pool) -> dict[str, object]:
    """Day 1 in null mode (the review), day 1 again under rest, day 2 a duplicate, plus a not_emitted item."""
    review = await emitter(SinkType.NULL).emit(batch(three_picks(), run_id="review", workflow_id="wf-review"))
    live = await emitter().emit(batch(three_picks(), run_id="live", workflow_id="wf-live", unknown=["ws-made-up"]))
    later = await emitter().emit(batch(three_picks()[:1], run_id="later", workflow_id="wf-later", local_date=DAY_2))
    async with pool.acquire() as conn:
        history_row = await conn.fetchval(
            "INSERT INTO activity_runs (definition_id, workflow_id, run_id, trigger, local_date, started_at, status)"
            " VALUES ('daily-statehub-wsjf-triage', 'wf-live', 'live', 'manual', $1, now(), 'running') RETURNING id",
            DAY_1,
        )
    return {"review": review, "live": live, "later": later, "history_row": history_row}


async def test_list_json_gives_run_key_state_and_ref_per_spec(cli, emitted) -> None:
    code, out, _ = await cli("tasks", "list", "--run", "wf-live", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["state"] for r in rows].count("created") == 3
    assert {r["state"] for r in rows} == {"created", "not_emitted"}
    for row in rows:
        assert {"run_id", "idempotency_key", "state", "ref"} <= set(row) and row["run_id"] == "live"
    created = sorted(r["ref"] for r in rows if r["state"] == "created")
    assert created == ["ISSUE-1", "ISSUE-2", "ISSUE-3"]
    (made_up,) = [r for r in rows if r["state"] == "not_emitted"]
    assert (made_up["reason"], made_up["candidate"], made_up["ref"], made_up["idempotency_key"]) == (
        "unknown_reference", "ws-made-up", None, None,
    )  # fmt: skip


async def test_list_by_history_row_by_workflow_and_run_and_by_definition(cli, emitted) -> None:
    _, by_row, _ = await cli("tasks", "list", "--run", str(emitted["history_row"]), "--json")
    _, by_pair, _ = await cli("tasks", "list", "--run", "wf-review/review", "--json")
    _, everything, _ = await cli("tasks", "list", "--definition", "daily-statehub-wsjf-triage", "--json")
    _, none, _ = await cli("tasks", "list", "--definition", "another", "--json")
    assert {r["run_id"] for r in json.loads(by_row)} == {"live"}
    assert [r["state"] for r in json.loads(by_pair)] == ["planned"] * 3
    assert len(json.loads(everything)) == 3 + 4 + 1 and json.loads(none) == []
    code, _, err = await cli("tasks", "list", "--run", "nope")
    assert code == 1 and "no run 'nope'" in err


async def test_the_table_shows_the_review_and_the_references(cli, emitted) -> None:
    code, out, _ = await cli("tasks", "list", "--run", "wf-review")
    assert code == 0 and out.splitlines()[0].startswith("DATE") and out.count("planned") == 3 and "null" in out
    _, out, _ = await cli("tasks", "list", "--run", "wf-live")
    assert "ISSUE-1" in out and "unknown_reference: candidate 'ws-made-up'" in out


async def test_show_follows_one_task_across_the_runs_that_filed_and_found_it(cli, emitted) -> None:
    code, out, _ = await cli("tasks", "show", "ISSUE-1")
    assert code == 0
    runs = [line for line in out.splitlines() if " in run " in line]
    assert runs == [
        "created in run wf-live/live (daily-statehub-wsjf-triage, 2026-06-26)",
        "duplicate in run wf-later/later (daily-statehub-wsjf-triage, 2026-06-27)",
    ]
    key = emitted["live"].tasks[0].idempotency_key
    _, by_key, _ = await cli("tasks", "show", key, "--json")
    assert [r["state"] for r in json.loads(by_key)] == ["planned", "created", "duplicate"]  # the review run too
    code, _, err = await cli("tasks", "show", "ISSUE-404")
    assert code == 1 and "no task spec under 'ISSUE-404'" in err


async def test_show_prints_a_dry_runs_request(cli, emitter, strict_issue_core: IssueCoreEmulator) -> None:
    summary = await emitter(SinkType.DRY_RUN).emit(
        batch(three_picks()[:1], run_id="dry", tasks_block=block(review_required=True))
    )
    _, out, _ = await cli("tasks", "show", summary.tasks[0].idempotency_key)
    assert '"method": "POST"' in out and '"Idempotency-Key"' in out and "review:     required (audit only" in out


async def test_without_database_url_it_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["tasks", "list"]) == 2
    assert "set DATABASE_URL" in capsys.readouterr().err
