"""The instruction kind's tasks block and the specs a run builds from the boundary's result."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from activity_core.clients.state_hub import Task, Workstream
from activity_core.kinds.instruction.task_specs import (
    MAX_TITLE_CHARS,
    TasksBlock,
    accepted_items,
    build_task_specs,
    candidate_targets,
)
from activity_core.settings import SinkType
from activity_core.tasks.spec import NotEmittedReason
from tests.tasks.support import DAY_1, DEFINITION, Pick, answer, batch, block, boundary, planning, three_picks


def test_the_best_three_above_the_threshold_become_specs_in_rank_order() -> None:
    picks = three_picks()
    result = batch(picks, run_id="r1")
    assert [s.candidate for s in result.specs] == [p.candidate for p in picks[:3]]
    assert [s.rank for s in result.specs] == [1, 2, 3]
    assert [s.repo for s in result.specs] == ["activity-core", "llm-connect", "state-hub"]
    assert result.not_emitted == []  # the fourth is below min_score: not selected, nothing to log
    assert result.requested_sink is SinkType.REST and result.occurrence == DAY_1

    top_two = batch(picks, run_id="r1", tasks_block=block(select={"top": 2, "min_score": 0}))
    assert len(top_two.specs) == 2
    everything = batch(picks, run_id="r1", tasks_block=block(select={"top": 10, "min_score": 0}))
    assert len(everything.specs) == 4


def test_the_rendered_task_carries_the_item_and_its_provenance() -> None:
    spec = batch(three_picks(), run_id="r1", workflow_id="wf-1").specs[0]
    assert spec.title == "Recommendation 1"
    assert "**Next action:** Open a task for the owning repo" in spec.body_markdown
    assert "WSJF 8.67 (business value 13, time criticality 8, risk reduction 5, job size 3)" in spec.body_markdown
    assert "rank 1 in the 2026-06-26 run of `daily-statehub-wsjf-triage`" in spec.body_markdown
    assert "Run: wf-1/r1." in spec.body_markdown
    assert spec.source == f"activity-core/{DEFINITION}" and spec.labels == ["from:activity-core", "daily-triage"]
    assert "Recommended again (rank 1, WSJF 8.67)" in spec.recurrence_comment


def test_a_task_candidate_goes_to_its_workstreams_repo() -> None:
    workstreams, tasks = planning()
    task = next(t for t in tasks if t.workstream_id)
    repo = next(w.repo for w in workstreams if w.id == task.workstream_id)
    (spec,) = batch([Pick(task.id, (8, 5, 3, 2))], run_id="r1").specs
    assert spec.repo == repo
    target = candidate_targets(workstreams, tasks)[task.id]
    assert (target.kind, target.key, target.workstream_id) == ("task", task.key, task.workstream_id)


def test_quarantined_items_never_become_specs_and_unknown_references_are_logged_as_not_emitted() -> None:
    workstreams, tasks = planning()
    targets = candidate_targets(workstreams, tasks)
    good = three_picks()[0]
    content = answer([good], unknown=["ws-invented-by-the-model"])
    lines = content.splitlines()
    lines.insert(2, lines[1].replace('"rank": 1', '"rank": "one"'))  # a schema violation
    result = boundary("\n".join(lines), set(targets))
    assert {q["reason"] for q in result["quarantined"]} >= {"schema_violation", "unknown_reference"}

    built = build_task_specs(
        block(), definition_id=DEFINITION, workflow_id="wf", run_id="r1", local_date=DAY_1,
        boundary=result, targets=targets, scrub=lambda text: text,
    )  # fmt: skip
    assert [s.candidate for s in built.specs] == [good.candidate]
    (rejected,) = built.not_emitted
    assert rejected.reason is NotEmittedReason.UNKNOWN_REFERENCE
    assert rejected.candidate == "ws-invented-by-the-model" and rejected.ref.startswith("line ")
    assert "is not one of the" in rejected.detail


def test_selected_items_without_a_repo_or_outside_the_allowed_repos_are_not_emitted() -> None:
    workstreams, tasks = planning()
    homeless = Workstream(id="ws-homeless", slug="homeless", title="No repo", status="active", repo=None)
    orphan = Task(id="t-orphan", key="X-T01", title="Orphan", status="todo", workstream_id="ws-gone")
    targets = candidate_targets([*workstreams, homeless], [*tasks, orphan])
    picks = [three_picks()[0], three_picks()[1], Pick("ws-homeless", (8, 8, 8, 1)), Pick("t-orphan", (8, 8, 8, 1))]
    result = boundary(answer(picks), set(targets))
    built = build_task_specs(
        block(target_repos=["activity-core"], select={"top": 4, "min_score": 0}), definition_id=DEFINITION,
        workflow_id="wf", run_id="r1", local_date=DAY_1, boundary=result, targets=targets, scrub=lambda text: text,
    )  # fmt: skip
    assert [s.repo for s in built.specs] == ["activity-core"]
    reasons = {entry.candidate: (entry.reason, entry.detail) for entry in built.not_emitted}
    assert reasons[picks[1].candidate] == (
        NotEmittedReason.REPO_NOT_ALLOWED,
        "repo 'llm-connect' is not in tasks.target_repos",
    )
    assert reasons["ws-homeless"][0] is NotEmittedReason.NO_REPO
    assert reasons["t-orphan"] == (NotEmittedReason.NO_REPO, "State Hub names no repo for task X-T01")


def test_review_required_is_metadata_never_part_of_the_request() -> None:
    (spec, *_) = batch(three_picks(), run_id="r1", tasks_block=block(review_required=True)).specs
    assert spec.review_required is True
    body = spec.new_task(external_key="k", run="wf/r1").model_dump(mode="json")
    assert "review_required" not in json.dumps(body)


def test_producer_text_is_scrubbed_bounded_and_one_line_in_titles() -> None:
    secret = "PLANTED-SECRET-42"
    tasks_block = block(title="{title} {rationale}", body="{rationale}" * 20)
    long_rationale = f"Mentions {secret}.\nThen goes on " + "and on " * 250
    (spec, *_) = batch(
        three_picks(), run_id="r1", tasks_block=tasks_block, rationale=long_rationale,
        scrub=lambda text: text.replace(secret, "***"),
    ).specs  # fmt: skip
    assert secret not in spec.title + spec.body_markdown + spec.recurrence_comment
    assert "\n" not in spec.title and len(spec.title) <= MAX_TITLE_CHARS and spec.title.endswith("…")
    assert len(spec.body_markdown) == 16_000 and spec.body_markdown.endswith("…")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"title": "{title.__class__}"}, "unknown placeholder(s) {title.__class__}"),
        ({"body": "{score:>10}"}, "unknown placeholder(s) {score:>10}"),
        ({"comment": "a } b"}, "a brace outside a {placeholder}"),
        ({"sink": "kafka"}, "sink"),
        ({"on_recurrence": "reopen"}, "on_recurrence"),
        ({"select": {"top": 0}}, "select.top"),
        ({"select": {"min_score": 61}}, "select.min_score"),
        ({"labels": [" "]}, "labels must not be empty"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_broken_tasks_block_is_refused_with_the_field(change: dict, problem: str) -> None:
    fields = {"action": "Act on the recommendation"} | change
    with pytest.raises(ValidationError) as caught:
        TasksBlock.model_validate(fields)
    errors = caught.value.errors()
    assert any(problem in ".".join(map(str, e["loc"])) or problem in e["msg"] for e in errors), errors


def test_literal_braces_survive_rendering() -> None:
    (spec, *_) = batch(three_picks(), run_id="r1", tasks_block=block(title="{{triage}} {title}")).specs
    assert spec.title == "{triage} Recommendation 1"


def test_accepted_items_read_the_boundarys_result_best_first() -> None:
    picks = three_picks()
    items = accepted_items(boundary(answer(list(reversed(picks))), {p.candidate for p in picks}))
    assert [item.candidate for item in items] == [p.candidate for p in picks]
    assert items[0].score == 8.67 and items[0].components["job_size"] == 3 and items[0].line is not None
