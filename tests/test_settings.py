"""The settings model is the one source of configuration, and the README documents all of it."""

from __future__ import annotations

import pytest

from activity_core.settings import PROJECT_ROOT, Settings


def _env_names() -> list[str]:
    return [str(info.validation_alias or name).upper() for name, info in Settings.model_fields.items()]


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
