"""`activity-core run`, the newcomer's first command: everything embedded, one run, its report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from activity_core.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_run_on_embedded_defaults_prints_the_ranked_report(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TEMPORAL_ADDRESS", "DATABASE_URL", "LLM_CONNECT_URL", "STATE_HUB_URL"}
    }
    env["ACTIVITY_CORE_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "activity_core", "run"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # progress while starting goes to stderr; the report to stdout
    for step in (
        "starting Temporal dev server",
        "PostgreSQL 16",
        "State Hub emulator",
        "llm-connect emulator",
        "migrations: 0001_activity_runs.sql",
        "schedule create    daily-statehub-wsjf-triage",
        "manual run started",
    ):
        assert step in done.stderr
    report = done.stdout
    assert "status: clean" in report and "(manual)" in report
    assert report.count("next: ") == 7  # the definition's top_n ranked items
    assert "evidence: progress_event=" in report and "note=daily-triage-" in report
    assert "temporal workflow show --workflow-id manual-daily-statehub-wsjf-triage-" in report
