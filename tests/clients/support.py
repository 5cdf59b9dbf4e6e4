"""A triage prompt rendered the way a run renders it, and the RunConfig a run sends."""

from __future__ import annotations

import re

from activity_core.clients import RunConfig
from activity_core.devstack.state_hub_emulator import seed_planning_state
from activity_core.settings import PROJECT_ROOT

PROMPT_TEMPLATE = PROJECT_ROOT / "definitions" / "daily-statehub-wsjf-triage.prompt.md"
PROFILE = "custodian-triage-balanced"
SOURCE = "activity-core/daily-statehub-wsjf-triage"
# Planted: tests assert that it never shows up in an error message, a repr or a log line.
PROMPT_SECRET = "PROMPT-SECRET-PLANTED-9d2b7e41c6"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def render_prompt(*, date: str = "2026-06-27", top_n: int = 7, preamble: str = "", limit: int | None = None) -> str:
    """The real template filled with the seeded open planning state (first ``limit`` lines)."""
    workstreams, tasks = seed_planning_state()
    lines = [
        f"- workstream {w['id']} | {w['slug']} | {w['title']} | {w['status']} | {w['planning_priority']}"
        for w in workstreams
        if w["status"] == "active"
    ] + [
        f"- task {t['id']} | {t['key']} | {t['title']} | {t['status']} | {t['priority']}"
        for t in tasks
        if t["status"] in ("todo", "wait", "blocked", "active")
    ]
    prompt = PROMPT_TEMPLATE.read_text(encoding="utf-8").format(
        date=date, top_n=top_n, item_schema="(report-item.v1)", context="\n".join(lines[:limit])
    )
    return preamble + prompt


def run_config(prompt: str, **overrides: object) -> RunConfig:
    fields: dict[str, object] = {
        "prompt": prompt,
        "model_name": PROFILE,
        "temperature": 0.2,
        "max_tokens": 1800,
        "max_depth": 2,
        "model_params": {"reasoning_effort": "medium", "response_format": "ndjson"},
    }
    return RunConfig(**(fields | overrides))


def planning_ids(prompt: str) -> set[str]:
    """The ids a report may name: every UUID in the prompt's planning-state block."""
    block = prompt.split("\nBEGIN PLANNING STATE\n", 1)[1].split("\nEND PLANNING STATE", 1)[0]
    return set(UUID.findall(block))
