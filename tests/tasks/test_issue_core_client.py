"""The issue-core client over real HTTP against the emulator: the contract, and how each
failure is sorted into retryable, ambiguous (may have been applied) or final."""

from __future__ import annotations

import socket

import pytest

from activity_core.clients.issue_core import (
    IssueCoreAmbiguous,
    IssueCoreApi,
    IssueCoreAuthError,
    IssueCoreClient,
    IssueCoreContractError,
    IssueCoreError,
    IssueCoreRejected,
    IssueCoreUnavailable,
    NewComment,
    NewTask,
    TaskLinks,
    create_task_request,
)
from activity_core.devstack.issue_core_emulator import IssueCoreEmulator

KEY = "ac1:daily-statehub-wsjf-triage:ws-1:0123456789abcdef:e1"


def new_task(key: str = KEY, **overrides: object) -> NewTask:
    fields: dict[str, object] = {
        "title": "Close the scheduled-run trust gap",
        "body_markdown": "Why: it unblocks the daily run.",
        "repo": "activity-core",
        "labels": ["from:activity-core", "daily-triage"],
        "source": "activity-core/daily-statehub-wsjf-triage",
        "external_key": key,
        "links": TaskLinks(state_hub_id="ws-1", run="wf-1/run-1"),
    }
    return NewTask(**(fields | overrides))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_create_then_find_by_key_and_comment(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator
) -> None:
    await issue_client.health()
    created = await issue_client.create_task(new_task())
    assert created.key == "ISSUE-1" and created.url.endswith("/ISSUE-1")
    (found,) = await issue_client.find_tasks(KEY)
    assert (found.id, found.status, found.is_open, found.external_key) == (created.id, "open", True, KEY)
    assert await issue_client.find_tasks(KEY.replace(":e1", ":e2")) == []

    comment = await issue_client.add_comment(
        created.id, NewComment(body_markdown="Again.", external_key=f"{KEY}:c2026-06-27")
    )
    (listed,) = await issue_client.find_comments(created.id, f"{KEY}:c2026-06-27")
    assert listed.id == comment.id
    assert await issue_client.find_comments(created.id, "another") == []

    issue_core.close_task("ISSUE-1")
    (closed,) = await issue_client.find_tasks(KEY)
    assert closed.status == "closed" and not closed.is_open


async def test_what_is_sent_is_the_prepared_request_with_the_key_twice_and_nothing_else(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator, issue_core_token: str
) -> None:
    prepared = create_task_request(new_task())
    await issue_client.create_task(new_task())
    (sent,) = issue_core.requests("tasks_create")
    assert sent.json() == prepared.body
    assert sent.headers["idempotency-key"] == prepared.headers[IssueCoreApi.IDEMPOTENCY_HEADER] == KEY
    assert sent.headers["authorization"] == f"Bearer {issue_core_token}"
    assert issue_core_token not in repr(prepared.to_dict()) and "authorization" not in str(prepared.to_dict()).lower()
    assert "review_required" not in sent.text


async def test_a_repeated_idempotency_key_answers_the_first_task_as_the_contract_assumes(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator
) -> None:
    first = await issue_client.create_task(new_task())
    again = await issue_client.create_task(new_task())
    assert again.id == first.id and len(issue_core.tasks()) == 1


async def test_validation_error_is_final_with_the_services_message(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator
) -> None:
    issue_core.queue_faults("tasks_create", "validation_error")
    with pytest.raises(IssueCoreRejected) as caught:
        await issue_client.create_task(new_task())
    error = caught.value
    assert error.status_code == 422 and not error.retryable and not error.ambiguous
    assert "answered 422: validation_error: emulated: the task was refused" in str(error)
    assert issue_core.tasks() == []


async def test_unknown_repo_and_bad_token_are_final(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator
) -> None:
    with pytest.raises(IssueCoreRejected, match="404: not_found: unknown repo 'nowhere'"):
        await issue_client.create_task(new_task(repo="nowhere"))
    async with IssueCoreClient(issue_core.url, token="wrong-token", timeout_seconds=2) as wrong:
        with pytest.raises(IssueCoreAuthError) as caught:
            await wrong.find_tasks(KEY)
    assert caught.value.status_code == 401 and not caught.value.retryable and "wrong-token" not in str(caught.value)


@pytest.mark.parametrize(
    ("route", "fault", "expected"),
    [
        ("tasks_find", "http_503", IssueCoreUnavailable),  # a read: nothing was applied
        ("tasks_create", "http_503", IssueCoreAmbiguous),  # a 5xx after the body was sent
        ("tasks_create", "http_502", IssueCoreAmbiguous),
        ("tasks_create", "apply_then_500", IssueCoreAmbiguous),
        ("tasks_create", "drop_connection", IssueCoreAmbiguous),
        ("tasks_create", "not_json_200", IssueCoreAmbiguous),  # a 2xx we cannot read was still applied
        ("tasks_find", "not_json_200", IssueCoreContractError),
        ("tasks_find", "drop_connection", IssueCoreUnavailable),
        ("comments_create", "apply_then_500", IssueCoreAmbiguous),
    ],
)
async def test_failures_are_sorted_by_whether_the_write_may_have_landed(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator, route: str, fault: str, expected: type[IssueCoreError]
) -> None:
    task = await issue_client.create_task(new_task(key="existing"))
    issue_core.queue_faults(route, fault)
    with pytest.raises(IssueCoreError) as caught:
        if route == "tasks_find":
            await issue_client.find_tasks(KEY)
        elif route == "tasks_create":
            await issue_client.create_task(new_task())
        else:
            await issue_client.add_comment(task.id, NewComment(body_markdown="Again.", external_key="c1"))
    error = caught.value
    assert type(error) is expected, str(error)
    assert error.retryable is (expected is not IssueCoreContractError)
    assert error.ambiguous is (expected is IssueCoreAmbiguous)
    assert error.failure_class == "failed_issue_core"


async def test_apply_then_500_left_the_task_behind_for_a_lookup_to_find(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator
) -> None:
    issue_core.queue_faults("tasks_create", "apply_then_500")
    with pytest.raises(IssueCoreAmbiguous):
        await issue_client.create_task(new_task())
    (found,) = await issue_client.find_tasks(KEY)
    assert found.key == "ISSUE-1"


async def test_a_timeout_after_sending_is_ambiguous_a_timeout_of_a_read_is_not(
    issue_core: IssueCoreEmulator, issue_core_token: str
) -> None:
    async with IssueCoreClient(issue_core.url, token=issue_core_token, timeout_seconds=1) as client:
        issue_core.queue_faults("tasks_create", "slow:2")
        with pytest.raises(IssueCoreAmbiguous, match="no response in time|no complete answer"):
            await client.create_task(new_task())
        issue_core.queue_faults("tasks_find", "slow:2")
        with pytest.raises(IssueCoreUnavailable, match="no response in time|no complete answer"):
            await client.find_tasks(KEY)


async def test_no_connection_means_nothing_was_sent() -> None:
    async with IssueCoreClient(f"http://127.0.0.1:{closed_port()}", token="t", timeout_seconds=1) as client:
        with pytest.raises(IssueCoreUnavailable) as caught:
            await client.create_task(new_task())
    assert not caught.value.ambiguous and caught.value.retryable


async def test_the_token_stays_out_of_messages_and_reprs_even_when_the_service_echoes_it(
    issue_client: IssueCoreClient, issue_core: IssueCoreEmulator, issue_core_token: str
) -> None:
    # A title that quotes the token (a model echoing it, say): the echoed body starts the message.
    issue_core.queue_faults("tasks_create", "echo_request_500")
    with pytest.raises(IssueCoreAmbiguous) as caught:
        await issue_client.create_task(new_task(title=f"Rotate {issue_core_token} now"))
    assert '"title":"Rotate [redacted] now"' in str(caught.value)
    assert issue_core_token not in str(caught.value)
    assert issue_core_token not in repr(issue_client)
