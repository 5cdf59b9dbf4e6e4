"""Structured logging: one JSON object per line, run ids on every line, secrets never printed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from activity_core.observability import logging as obs_logging
from activity_core.observability.logging import (
    clear_secrets,
    configure_logging,
    redact,
    register_secret,
    register_settings_secrets,
)
from activity_core.settings import Settings

PLANTED_TOKEN = "sh-tok-7f3a9c1e5b2d4f6a8c0e"
PLANTED_PASSWORD = "p@ss w0rd/with:odd%chars"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """The root logger writing JSON into a buffer; everything restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    from temporalio import activity, workflow

    saved_temporal = (activity.logger.activity_info_on_message, workflow.logger.workflow_info_on_message)
    buffer = io.StringIO()
    for handler in saved_handlers:
        root.removeHandler(handler)
    configure_logging("DEBUG", "json", stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        activity.logger.activity_info_on_message, workflow.logger.workflow_info_on_message = saved_temporal
        clear_secrets()


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    raw = buffer.getvalue().splitlines()
    return [json.loads(line) for line in raw]  # every line is one JSON object, or this raises


def test_one_json_object_per_line_with_the_core_fields(stream: io.StringIO) -> None:
    log = logging.getLogger("activity_core.test")
    log.info("first %s", "line")
    log.warning("second\nspans two lines")
    first, second = lines(stream)
    assert first["message"] == "first line"
    assert first["level"] == "INFO" and first["logger"] == "activity_core.test"
    assert first["ts"].endswith("Z") and "T" in first["ts"]
    assert second["message"] == "second\nspans two lines"
    assert len(stream.getvalue().splitlines()) == 2


def test_temporal_activity_and_workflow_extras_are_lifted(stream: io.StringIO) -> None:
    log = logging.getLogger("temporalio.activity")
    log.info(
        "calling llm-connect",
        extra={
            "temporal_activity": {
                "activity_id": "3",
                "activity_type": "call_llm_connect",
                "attempt": 2,
                "namespace": "default",
                "task_queue": "activity-core",
                "workflow_id": "daily-statehub-wsjf-triage-2026-06-26T05:20:00Z",
                "workflow_run_id": "0199-run",
                "workflow_type": "InstructionWorkflow",
            },
            "definition_id": "daily-statehub-wsjf-triage",
        },
    )
    logging.getLogger("temporalio.workflow").info(
        "run finished",
        extra={
            "temporal_workflow": {
                "workflow_id": "wf-9",
                "run_id": "run-9",
                "workflow_type": "InstructionWorkflow",
                "attempt": 1,
            }
        },
    )
    activity_line, workflow_line = lines(stream)
    assert activity_line["workflow_id"] == "daily-statehub-wsjf-triage-2026-06-26T05:20:00Z"
    assert activity_line["run_id"] == "0199-run"
    assert activity_line["definition_id"] == "daily-statehub-wsjf-triage"
    assert activity_line["activity_type"] == "call_llm_connect" and activity_line["attempt"] == 2
    assert "temporal_activity" not in activity_line
    assert (workflow_line["workflow_id"], workflow_line["run_id"]) == ("wf-9", "run-9")
    assert "temporal_workflow" not in workflow_line


def test_the_real_temporal_activity_logger_adapter(stream: io.StringIO) -> None:
    """Through temporalio.activity.logger itself, with a fake activity context installed."""
    from temporalio import activity

    class FakeContext:
        logger_details = {
            "activity_id": "1",
            "activity_type": "post_progress",
            "attempt": 1,
            "namespace": "default",
            "task_queue": "activity-core",
            "workflow_id": "wf-real",
            "workflow_run_id": "run-real",
            "workflow_type": "InstructionWorkflow",
        }

    token = activity._current_context.set(FakeContext())  # type: ignore[arg-type]
    try:
        activity.logger.info("posting", extra={"definition_id": "daily-statehub-wsjf-triage"})
    finally:
        activity._current_context.reset(token)
    (line,) = lines(stream)
    assert (line["workflow_id"], line["run_id"], line["definition_id"]) == (
        "wf-real",
        "run-real",
        "daily-statehub-wsjf-triage",
    )
    # JSON mode turns off the SDK's "(details dict)" suffix: the ids are fields already.
    assert line["message"] == "posting"


# --- redaction -------------------------------------------------------------------------


def test_a_planted_token_never_reaches_the_output(stream: io.StringIO) -> None:
    register_secret(SecretStr(PLANTED_TOKEN))
    log = logging.getLogger("activity_core.clients.state_hub")
    log.info("POST /api/progress with Bearer %s", PLANTED_TOKEN)
    log.info("headers", extra={"request": {"headers": {"X-Debug": f"token={PLANTED_TOKEN}"}}})
    log.warning("failed: %r", {"token_copy": PLANTED_TOKEN, "nested": [PLANTED_TOKEN]})
    try:
        raise RuntimeError(f"401 for token {PLANTED_TOKEN}")
    except RuntimeError:
        log.exception("State Hub refused")
    output = stream.getvalue()
    assert PLANTED_TOKEN not in output
    assert PLANTED_TOKEN[:12] not in output  # no partial leak either
    parsed = lines(stream)
    assert len(parsed) == 4
    assert parsed[0]["message"] == "POST /api/progress with Bearer ***"
    assert "***" in parsed[3]["exc"] and parsed[3]["exc_type"] == "RuntimeError"


def test_secrets_with_json_special_characters_are_redacted_too(stream: io.StringIO) -> None:
    tricky = 'quote"back\\slash-é-secret'
    register_secret(tricky)
    logging.getLogger("x").info("value %s", tricky, extra={"copy": tricky})
    assert "back" not in stream.getvalue()
    line = lines(stream)[0]
    assert line["message"] == "value ***" and line["copy"] == "***"


def test_settings_secrets_and_the_dsn_password_alone_are_registered(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import quote

    dsn = f"postgresql://activity:{quote(PLANTED_PASSWORD, safe='')}@db.postgres.svc:5432/activity_core"
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("STATE_HUB_TOKEN", PLANTED_TOKEN)
    register_settings_secrets(Settings())
    log = logging.getLogger("x")
    log.error("connect failed: %s", dsn)
    log.error("password was %s (%s)", PLANTED_PASSWORD, quote(PLANTED_PASSWORD, safe=""))
    log.info("bearer %s", PLANTED_TOKEN)
    output = stream.getvalue()
    for leaked in (dsn, PLANTED_PASSWORD, quote(PLANTED_PASSWORD, safe=""), PLANTED_TOKEN):
        assert leaked not in output


@pytest.mark.parametrize("field", ["prompt", "Authorization", "system_prompt", "api-key", "password"])
def test_sensitive_fields_are_never_logged(stream: io.StringIO, field: str) -> None:
    body = "Rank these workstreams by WSJF: <the whole prompt body>"
    logging.getLogger("x").info("calling llm-connect", extra={field: body, "request": {field: body, "model": "m"}})
    (line,) = lines(stream)
    assert "whole prompt body" not in stream.getvalue()
    assert line[field] == "***"
    assert line["request"] == {field: "***", "model": "m"}


def test_short_and_empty_values_are_not_registered() -> None:
    try:
        register_secret("")
        register_secret(None)
        register_secret("ab")
        assert redact("a b ab abc") == "a b ab abc"
    finally:
        clear_secrets()


def test_text_format_carries_ids_and_redacts() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        configure_logging("info", "text", stream=buffer)
        register_secret(PLANTED_TOKEN)
        ids = {"definition_id": "def-1", "workflow_id": "wf-1", "run_id": "run-1"}
        logging.getLogger("x").info("token %s", PLANTED_TOKEN, extra={"prompt": "secret prompt", **ids})
        logging.getLogger("x").debug("not shown at INFO")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        clear_secrets()
    text = buffer.getvalue()
    assert "definition_id=def-1 workflow_id=wf-1 run_id=run-1" in text
    assert PLANTED_TOKEN not in text and "secret prompt" not in text
    assert "not shown" not in text
    assert len(text.splitlines()) == 1


def test_configure_logging_replaces_its_own_handler_only() -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    foreign = logging.NullHandler()
    try:
        root.addHandler(foreign)
        configure_logging("INFO", "json", stream=io.StringIO())
        configure_logging("WARNING", "json", stream=io.StringIO())
        ours = [h for h in root.handlers if getattr(h, obs_logging._HANDLER_MARK, False)]
        assert len(ours) == 1 and foreign in root.handlers
        assert root.level == logging.WARNING
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.mark.parametrize(("level", "fmt"), [("LOUD", "json"), ("INFO", "xml")])
def test_configure_logging_rejects_unknown_values(level: str, fmt: str) -> None:
    with pytest.raises(ValueError):
        configure_logging(level, fmt, stream=io.StringIO())
