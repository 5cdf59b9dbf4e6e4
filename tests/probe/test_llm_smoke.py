"""The deep check of llm-connect over real HTTP against the emulator, and `activity-core smoke
llm-connect` from an operator's shell."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from activity_core.cli import main
from activity_core.clients.llm_connect import LlmConnectClient
from activity_core.kinds.probe.llm_smoke import FIXTURE_TASKS, FIXTURE_WORKSTREAMS, run_llm_smoke, triage_smoke_request
from activity_core.observability.logging import redact
from tests.probe.conftest import TRIAGE_DEFINITIONS, dead_url

TRIAGE_YAML = yaml.safe_load((TRIAGE_DEFINITIONS / "daily-statehub-wsjf-triage.yaml").read_text())


async def _smoke(url: str, *, timeout: float = 10):
    async with LlmConnectClient(url, timeout_seconds=timeout) as llm:
        request = triage_smoke_request(TRIAGE_DEFINITIONS, budget_seconds=timeout)
        return await run_llm_smoke(llm, request, request_id="smoke/test", scrub=redact), request


async def test_the_smoke_sends_the_triage_s_own_run_config_with_a_fixture_prompt(llm_connect, state_hub) -> None:
    report, request = await _smoke(llm_connect.url)

    assert report.passed and report.failure is None and report.health == "ok"
    assert report.boundary_status == "clean" and report.items_kept >= 1 and report.items_quarantined == 0
    assert report.latency_ms is not None and report.budget_seconds == 10 and report.budget_used < 1
    (sent,) = [r.json() for r in llm_connect.requests("execute")]
    llm = TRIAGE_YAML["llm"]
    assert {k: sent[k] for k in ("model_name", "temperature", "max_tokens", "max_depth")} == {
        k: llm[k] for k in ("model_name", "temperature", "max_tokens", "max_depth")
    }
    assert sent["model_params"] == {**llm["model_params"], "response_format": "ndjson"}  # the framing's hint
    fixture_ids = {ws.id for ws in FIXTURE_WORKSTREAMS} | {t.id for t in FIXTURE_TASKS}
    assert set(request.known_refs) == fixture_ids
    assert all(i in sent["prompt"] for i in fixture_ids) and "BEGIN PLANNING STATE" in sent["prompt"]
    assert state_hub.requests() == []  # no live planning state was read


@pytest.mark.parametrize(
    ("route", "fault", "failure", "health"),
    [
        ("execute", "garbage", "answer_shape", "ok"),
        ("execute", "truncated", None, "ok"),  # partial: whole items before the cut still pass
        ("execute", "configuration_error", "configuration", "ok"),
        ("execute", "provider_error", "provider", "ok"),
        ("execute", "structured_output_error", "provider", "ok"),
        ("execute", "content_not_string", "provider", "ok"),
        ("execute", "drop_connection", "transport", "ok"),
        ("execute", "slow:3", "timeout", "ok"),
        ("health", "http_503", "provider", "failed"),
        ("health", "not_json_200", "provider", "failed"),
    ],
)
async def test_a_failure_is_named_transport_timeout_provider_configuration_or_answer_shape(
    llm_connect, route: str, fault: str, failure: str | None, health: str
) -> None:
    llm_connect.queue_faults(route, fault)
    report, _ = await _smoke(llm_connect.url, timeout=1)
    assert (report.failure, report.health) == (failure, health)
    assert report.passed is (failure is None)
    if failure is None:
        assert report.boundary_status == "partial"
    else:
        assert report.error and report.headline().startswith(f"{failure}: ")


async def test_an_echoed_request_never_reaches_the_report(llm_connect) -> None:
    llm_connect.queue_faults("execute", "echo_request_500")
    report, request = await _smoke(llm_connect.url)
    assert report.failure == "provider"
    text = json.dumps(report.to_dict())
    for fixture in (*FIXTURE_TASKS, *FIXTURE_WORKSTREAMS):
        assert fixture.title not in text
    assert "Weighted Shortest Job First" not in text  # the template's words
    assert request.config.prompt[:40] not in text


async def test_nothing_listening_is_a_transport_failure_of_the_health_call() -> None:
    report, _ = await _smoke(dead_url())
    assert (report.failure, report.health, report.latency_ms) == ("transport", "failed", None)


def test_the_command_passes_with_json(monkeypatch, capsys, llm_connect) -> None:
    monkeypatch.setenv("LLM_CONNECT_URL", llm_connect.url)
    assert main(["smoke", "llm-connect", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True and report["target"] == "llm-connect" and report["url"] == llm_connect.url
    assert report["boundary_status"] == "clean" and report["budget_seconds"] == 300


def test_the_command_fails_with_exit_1_and_says_what_failed(monkeypatch, capsys, llm_connect) -> None:
    monkeypatch.setenv("LLM_CONNECT_URL", llm_connect.url)
    llm_connect.queue_faults("execute", "configuration_error")
    assert main(["smoke", "llm-connect"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"llm-connect smoke against {llm_connect.url}: FAIL")
    assert "failed    configuration: llm-connect POST /execute answered 400 configuration_error" in out


def test_the_command_without_an_address_exits_2(monkeypatch, capsys) -> None:
    monkeypatch.delenv("LLM_CONNECT_URL", raising=False)
    assert main(["smoke", "llm-connect"]) == 2
    assert "set LLM_CONNECT_URL" in capsys.readouterr().err


def test_the_command_with_a_broken_triage_definition_exits_2(monkeypatch, capsys, tmp_path, llm_connect) -> None:
    monkeypatch.setenv("LLM_CONNECT_URL", llm_connect.url)
    monkeypatch.setenv("ACTIVITY_CORE_DEFINITIONS_DIR", str(tmp_path))
    assert main(["smoke", "llm-connect"]) == 2
    assert "no definition 'daily-statehub-wsjf-triage'" in capsys.readouterr().err


def test_every_failure_kind_is_explained_in_the_runbook() -> None:
    runbook = (TRIAGE_DEFINITIONS.parent / "docs" / "runbook.md").read_text()
    kinds = {"transport", "timeout", "provider", "configuration", "answer_shape"}
    documented = set(re.findall(r"^\| `([a-z_]+)` \| ", runbook[runbook.index("### The llm-connect smoke") :], re.M))
    assert documented == kinds
