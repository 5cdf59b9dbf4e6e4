"""Definitions: the committed file is valid, broken ones are refused with file, field and problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from activity_core.cli import main
from activity_core.definitions.loader import (
    DefinitionError,
    DefinitionNotFound,
    definition_json_schema,
    load_all,
    load_definition,
)
from activity_core.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"
TRIAGE = "daily-statehub-wsjf-triage"


def _copy_definitions(tmp_path: Path) -> Path:
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, target)
    return target


def _edit(directory: Path, change) -> None:
    path = directory / f"{TRIAGE}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_the_triage_definition_declares_the_run() -> None:
    d = load_definition(TRIAGE, DEFINITIONS).definition
    assert (d.schedule.hour, d.schedule.minute, d.schedule.time_zone) == (7, 20, "Europe/Berlin")
    assert d.schedule.overlap == "skip"
    assert d.llm.model_name == "custodian-triage-balanced"
    assert (d.llm.temperature, d.llm.max_tokens, d.llm.max_depth) == (0.2, 1800, 2)
    assert d.llm.model_params["reasoning_effort"] == "medium"
    assert d.output.top_n == 7
    assert d.evidence.note_key_pattern == "daily-triage-{date}"


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads((PROJECT_ROOT / "schemas" / "activity-definition.schema.json").read_text())
    assert committed == definition_json_schema(), "run `make schemas` after changing activity_core/definitions/"


def test_committed_definitions_validate_against_the_json_schema() -> None:
    import jsonschema

    schema = json.loads((PROJECT_ROOT / "schemas" / "activity-definition.schema.json").read_text())
    for path in DEFINITIONS.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda d: d["schedule"].__setitem__("hour", 25), "schedule.hour", "less than or equal to 23"),
        (lambda d: d["schedule"].__setitem__("time_zone", "Mars/Olympus"), "schedule.time_zone", "unknown time zone"),
        (lambda d: d["output"].__setitem__("top_n", 21), "output.top_n", "less than or equal to 20"),
        (lambda d: d["llm"].__setitem__("temperatur", 0.3), "llm.temperatur", "Extra inputs"),
        (
            lambda d: d["evidence"].__setitem__("note_key_pattern", "daily-triage"),
            "evidence.note_key_pattern",
            "{date}",
        ),
        (lambda d: d["prompt"].__setitem__("template", "missing.md"), "prompt.template", "not found"),
        (
            lambda d: d["schedule"].__setitem__("execution_timeout_seconds", 3600),
            "execution_timeout_seconds",
            "worst-case retry budgets",
        ),
    ],
)
def test_broken_definition_names_file_field_and_problem(tmp_path: Path, change, field: str, problem: str) -> None:
    directory = _copy_definitions(tmp_path)
    _edit(directory, change)
    with pytest.raises(DefinitionError) as caught:
        load_all(directory)
    message = str(caught.value)
    assert f"{TRIAGE}.yaml" in message and field in message and problem in message


def test_unknown_definition_lists_the_known_ones() -> None:
    with pytest.raises(DefinitionNotFound, match=TRIAGE):
        load_definition("nightly-nothing", DEFINITIONS)


def test_definitions_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["definitions", "check"]) == 0
    assert f"ok   {TRIAGE}.yaml" in capsys.readouterr().out
    directory = _copy_definitions(tmp_path)
    _edit(directory, lambda d: d.pop("llm"))
    assert main(["definitions", "check", "--dir", str(directory)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "llm: Field required" in out


def test_cache_rereads_an_edited_definition_only(tmp_path: Path) -> None:
    import os

    from activity_core.definitions.loader import DefinitionCache

    directory = _copy_definitions(tmp_path)
    cache = DefinitionCache(directory)
    first = cache.get(TRIAGE)
    assert cache.get(TRIAGE) is first  # unchanged: not parsed again
    _edit(directory, lambda d: d["output"].__setitem__("top_n", 5))
    path = directory / f"{TRIAGE}.yaml"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # coarse clocks: make the edit visible
    assert cache.get(TRIAGE).definition.output.top_n == 5
    path.unlink()
    with pytest.raises(DefinitionNotFound):
        cache.get(TRIAGE)
