"""The alerting rules: valid for promtool, firing and not firing in its unit tests, about
metrics the worker really exports, and loadable both ways the runbook says."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from activity_core.observability.metrics import Metrics
from tests.tools import apt_tool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "k8s" / "railiance" / "prometheus" / "activity-core.rules.yaml"
RULE_TESTS = Path(__file__).with_name("alert-rules.test.yaml")
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()


@pytest.fixture(scope="module")
def promtool() -> str:
    return apt_tool("promtool", package="prometheus")


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_checks_the_rules(promtool: str) -> None:
    done = run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 2 rules found" in done.stdout + done.stderr


def test_the_rule_unit_tests_pass(promtool: str) -> None:
    done = run(promtool, "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # forgetting the catch-up window fires hours too early
        ("\n            - max by (definition) (activity_core_schedule_catchup_window_seconds)", ""),
        # one alert per replica instead of one per definition
        (
            "max by (definition) (activity_core_schedule_next_tick_timestamp_seconds)",
            "activity_core_schedule_next_tick_timestamp_seconds",
        ),
        # a bare comparison stays silent when no worker is scraped at all
        ("absent(activity_core_worker_running == 1)", "max(activity_core_worker_running) < 1"),
    ],
)
def test_the_unit_tests_catch_a_broken_rule(promtool: str, tmp_path: Path, old: str, new: str) -> None:
    rules = RULES.read_text()
    assert old in rules
    (tmp_path / "rules.yaml").write_text(rules.replace(old, new))
    tests = yaml.safe_load(RULE_TESTS.read_text())
    tests["rule_files"] = ["rules.yaml"]
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    assert run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path).returncode == 0
    done = run(promtool, "test", "rules", "tests.yaml", cwd=tmp_path)
    assert done.returncode != 0, done.stdout


def test_the_rules_read_only_metrics_the_worker_exports() -> None:
    exported = {metric.name for metric in Metrics().registry.collect()}
    groups = yaml.safe_load(RULES.read_text())["groups"]
    used = {
        name for group in groups for rule in group["rules"] for name in re.findall(r"activity_core_\w+", rule["expr"])
    }
    assert used == {
        "activity_core_schedule_next_tick_timestamp_seconds",
        "activity_core_schedule_catchup_window_seconds",
        "activity_core_worker_running",
    }
    assert used <= exported, used - exported


def test_the_runbooks_prometheusrule_holds_the_same_rules() -> None:
    """The runbook wraps the rule file into a PrometheusRule; run that pipeline, minus the apply."""
    blocks = re.findall(r"```sh\n(.*?)```", RUNBOOK, flags=re.DOTALL)
    (command,) = [b for b in blocks if "kind: PrometheusRule" in b]
    pipeline = command.replace("\\\n", " ").strip()
    assert pipeline.endswith("| kubectl apply -f -"), pipeline
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline.removesuffix("| kubectl apply -f -")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rule = yaml.safe_load(done.stdout)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["namespace"] == "activity-core"
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
