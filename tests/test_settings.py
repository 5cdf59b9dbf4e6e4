"""The settings model is the one source of configuration, checks every value it reads, and
the README documents all of it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from activity_core.settings import PROJECT_ROOT, Settings, SettingsError, env_name, load_settings


def _env_names() -> list[str]:
    return [env_name(name) for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _env_names():
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("variable", _env_names())
def test_every_variable_is_documented_in_the_readme(variable: str) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert f"`{variable}`" in readme, f"document {variable} (and its default) in the README's configuration table"


def test_variables_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVITY_CORE_TASK_QUEUE", "triage-blue")
    monkeypatch.setenv("LLM_CONNECT_TIMEOUT_SECONDS", "120")
    monkeypatch.setenv("STATE_HUB_TOKEN", "sh-secret-value")
    settings = Settings()
    assert settings.task_queue == "triage-blue" and settings.llm_connect_timeout_seconds == 120
    assert settings.state_hub_bearer() == "sh-secret-value"
    assert "sh-secret-value" not in repr(settings)  # secrets are SecretStr: never printed by accident


def test_the_defaults_are_valid() -> None:
    settings = load_settings()
    assert (settings.log_level, settings.log_format, settings.health_port) == ("INFO", "json", 8081)


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("LLM_CONNECT_TIMEOUT_SECONDS", "-3", "a number of seconds greater than 0"),
        ("LLM_CONNECT_TIMEOUT_SECONDS", "abc", "a number of seconds greater than 0"),
        ("LLM_CONNECT_TIMEOUT_SECONDS", "nan", "a number of seconds greater than 0"),
        ("STATE_HUB_TIMEOUT_SECONDS", "0", "a number of seconds greater than 0"),
        ("ACTIVITY_CORE_DB_TIMEOUT_SECONDS", "-1", "a number of seconds greater than 0"),
        ("ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS", "inf", "a number of seconds greater than 0"),
        ("ACTIVITY_CORE_DB_POOL_MAX", "0", "a whole number from 1 to 1000"),
        ("ACTIVITY_CORE_DB_POOL_MIN", "1.5", "a whole number from 1 to 1000"),
        ("ACTIVITY_CORE_LOG_LEVEL", "LOUD", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("ACTIVITY_CORE_LOG_FORMAT", "xml", "json or text"),
        ("ACTIVITY_CORE_HEALTH_PORT", "99999", "a port number from 0 to 65535 (0 = off)"),
        ("ACTIVITY_CORE_HEALTH_PORT", "-1", "a port number from 0 to 65535 (0 = off)"),
        ("ACTIVITY_CORE_RAW_RETENTION_DAYS", "-5", "a whole number of days, 1 or more (or unset)"),
        ("ACTIVITY_CORE_RAW_RETENTION_DAYS", "0", "a whole number of days, 1 or more (or unset)"),
        ("TEMPORAL_ADDRESS", "nonsense", "host:port"),
        ("TEMPORAL_ADDRESS", "localhost:99999", "host:port"),
        ("TEMPORAL_ADDRESS", "http://localhost:7233", "host:port"),
        ("LLM_CONNECT_URL", "localhost:8080", "an http:// or https:// URL with a host"),
        ("STATE_HUB_URL", "ftp://hub", "an http:// or https:// URL with a host"),
        ("STATE_HUB_URL", "http://hub:70000", "an http:// or https:// URL with a host"),
        ("ISSUE_SINK_TYPE", "jira", "one of null, dry_run, rest"),
        ("ACTIVITY_CORE_TASK_QUEUE", "two words", "a non-empty name without spaces"),
    ],
)
def test_a_bad_value_is_refused_with_its_name_its_value_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    message = str(refused.value)
    shown = repr(value) if " " in value else value
    assert message.startswith(f"{variable}={shown} is not allowed: {allowed}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("variable", "value", "read"),
    [
        ("ACTIVITY_CORE_LOG_LEVEL", "debug", "DEBUG"),
        ("ACTIVITY_CORE_LOG_FORMAT", " Text ", "text"),
        ("TEMPORAL_ADDRESS", "temporal-frontend.temporal.svc:7233", "temporal-frontend.temporal.svc:7233"),
        ("TEMPORAL_ADDRESS", "[::1]:7233", "[::1]:7233"),
        ("STATE_HUB_URL", "https://state-hub.internal/base", "https://state-hub.internal/base"),
        ("ACTIVITY_CORE_HEALTH_PORT", "0", 0),
    ],
)
def test_good_values_are_read(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, read: object) -> None:
    monkeypatch.setenv(variable, value)
    settings = load_settings()
    field = next(name for name in Settings.model_fields if env_name(name) == variable)
    assert getattr(settings, field) == read


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "")
    monkeypatch.setenv("LLM_CONNECT_TIMEOUT_SECONDS", "")
    settings = load_settings()
    assert settings.temporal_address is None and settings.llm_connect_timeout_seconds == 300


def test_the_pool_minimum_may_not_exceed_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVITY_CORE_DB_POOL_MIN", "7")
    with pytest.raises(SettingsError, match=r"ACTIVITY_CORE_DB_POOL_MIN=7 is larger than ACTIVITY_CORE_DB_POOL_MAX=5"):
        load_settings()


def test_every_bad_value_is_named_in_the_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVITY_CORE_LOG_FORMAT", "xml")
    monkeypatch.setenv("ACTIVITY_CORE_HEALTH_PORT", "99999")
    message = str(pytest.raises(SettingsError, load_settings).value)
    assert "ACTIVITY_CORE_LOG_FORMAT=xml" in message and "ACTIVITY_CORE_HEALTH_PORT=99999" in message


def test_a_bad_secret_is_refused_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://triage:pw-PLANTED-4411@db/history")
    message = str(pytest.raises(SettingsError, load_settings).value)
    assert message == "DATABASE_URL=(hidden: a secret) is not allowed: a postgresql:// URL"


def test_secret_values_are_every_secret_field_and_the_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_HUB_TOKEN", "sh-token-PLANTED-77")
    monkeypatch.setenv("DATABASE_URL", "postgresql://triage:p%40ss-PLANTED@db:5432/history")

    secrets = load_settings().secret_values()

    assert set(secrets) == {
        "sh-token-PLANTED-77",
        "postgresql://triage:p%40ss-PLANTED@db:5432/history",
        "p%40ss-PLANTED",  # as written in the URL
        "p@ss-PLANTED",  # as the server sees it
    }
    assert list(secrets) == sorted(secrets, key=len, reverse=True)  # one containing another goes first


def test_secret_values_finds_a_secret_field_added_later() -> None:
    class WithIssueCore(Settings):
        issue_core_token: SecretStr | None = None

    settings = WithIssueCore(issue_core_token=SecretStr("ic-token-PLANTED"))
    assert settings.secret_values() == ("ic-token-PLANTED",)


def test_no_secret_configured_means_none() -> None:
    assert load_settings().secret_values() == ()
