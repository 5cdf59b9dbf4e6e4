"""The docs say what the definitions say, and point at files by their path in the repo."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from activity_core.definitions.loader import load_all
from activity_core.settings import PROJECT_ROOT

DOCS = sorted([PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").glob("*.md")])
TRIAGE = load_all(PROJECT_ROOT / "definitions")["daily-statehub-wsjf-triage"].definition
RUN_LIMIT = timedelta(seconds=TRIAGE.schedule.execution_timeout_seconds)
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_the_docs_name_no_path_of_a_machine(path) -> None:
    found = re.findall(r"(?<![\w.])/(?:work|home|root|Users)/\S+", path.read_text())
    assert found == [], f"{path.name}: name repo files by their repo path and other teams' docs as ../shared/..."


def test_every_stated_run_time_limit_is_the_definitions() -> None:
    stated: list[tuple[str, timedelta]] = []
    for path in DOCS:
        text = path.read_text()
        stated += [(path.name, timedelta(hours=int(h))) for h in re.findall(r"--execution-timeout (\d+)h", text)]
        stated += [(path.name, timedelta(seconds=int(s))) for s in re.findall(r"--execution_timeout (\d+)", text)]
        stated += [
            (path.name, timedelta(hours=WORDS[word]))
            for word in re.findall(r"execution_timeout_seconds`? \((\w+) hours? for the triage\)", text)
        ]
    assert stated, "the docs state the run time limit somewhere"
    assert [(name, limit) for name, limit in stated if limit != RUN_LIMIT] == []
