"""The task emission settings: the sink ceiling, and issue-core's address, token and timeout."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from activity_core.settings import Settings, SettingsError, SinkType, load_settings
from activity_core.tasks.sinks import effective_sink

TOKEN = "ic-settings-PLANTED-31f7"


def problems(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [error["msg"] for error in exc.value.errors()]


def test_the_default_ceiling_is_null_and_needs_nothing_else() -> None:
    settings = Settings()
    assert settings.issue_sink_type is SinkType.NULL and settings.issue_core_url is None
    assert settings.issue_core_bearer() is None and settings.issue_core_timeout_seconds == 10


def test_the_environment_sets_a_rest_ceiling_with_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUE_SINK_TYPE", "rest")
    monkeypatch.setenv("ISSUE_CORE_URL", "http://issue-core.issue-core.svc.cluster.local:8080")
    monkeypatch.setenv("ISSUE_CORE_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_TIMEOUT_SECONDS", "20")
    settings = Settings()
    assert settings.issue_sink_type is SinkType.REST and settings.issue_core_bearer() == TOKEN
    assert settings.issue_core_timeout_seconds == 20 and TOKEN not in repr(settings)


def test_an_unknown_sink_is_refused_in_one_line_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUE_SINK_TYPE", "REST ")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "ISSUE_SINK_TYPE='REST ' is not allowed: one of null, dry_run, rest"


@pytest.mark.parametrize(
    ("sink", "given", "missing"),
    [
        ("rest", {}, "ISSUE_CORE_URL and ISSUE_CORE_TOKEN: set them"),
        ("dry_run", {"issue_core_token": TOKEN}, "ISSUE_CORE_URL: set it"),
        ("rest", {"issue_core_url": "http://ic", "issue_core_token": ""}, "ISSUE_CORE_TOKEN: set it"),
    ],
)
def test_above_null_the_url_and_token_are_required_and_the_token_is_never_echoed(
    sink: str, given: dict[str, str], missing: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(issue_sink_type=sink, **given)
    (problem,) = problems(caught)
    assert f"ISSUE_SINK_TYPE={sink} needs {missing} (or ISSUE_SINK_TYPE=null to send nothing)" in problem
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("seconds", [0, 0.5, 121])
def test_the_timeout_stays_in_its_range(seconds: float) -> None:
    with pytest.raises(ValidationError):
        Settings(issue_core_timeout_seconds=seconds)


@pytest.mark.parametrize(
    ("ceiling", "requested", "used"),
    [
        ("null", "rest", "null"),
        ("null", "dry_run", "null"),
        ("dry_run", "rest", "dry_run"),
        ("rest", "rest", "rest"),
        ("rest", "null", "null"),
        ("rest", "dry_run", "dry_run"),
        ("dry_run", "null", "null"),
    ],
)
def test_a_definitions_sink_is_lowered_to_the_ceiling(ceiling: str, requested: str, used: str) -> None:
    assert effective_sink(SinkType(ceiling), SinkType(requested)) is SinkType(used)
