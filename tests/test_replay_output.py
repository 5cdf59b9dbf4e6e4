"""``activity-core replay-output``: the boundary on a captured answer, as an operator runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from activity_core.cli import main
from activity_core.settings import PROJECT_ROOT
from tests.boundary.reports import FIXTURES, REFS, item, report

RESULT_KEYS = {"status", "framing", "truncated", "summary", "items", "quarantined", "counts"}


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(REFS))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict | None, str]:
    code = main(["replay-output", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_a_raw_answer_replays_clean(tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "answer.txt"
    answer.write_text(report(item(1), item(2)))

    code, result, err = _run(capsys, "--definition", "daily-statehub-wsjf-triage", "--refs", refs, answer)

    assert code == 0 and set(result) == RESULT_KEYS
    assert result["status"] == "clean" and [i["candidate"] for i in result["items"]] == ["ws-1", "ws-2"]
    assert {"rank", "candidate", "title", "wsjf", "rationale", "next_action", "computed_score"} <= set(
        result["items"][0]
    )
    assert err.startswith("clean: 2 item(s) accepted, 0 quarantined")


def test_a_whole_llm_connect_response_replays_with_its_finish_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    response = json.loads((FIXTURES / "llm-connect-response.json").read_text())
    captured = tmp_path / "response.json"
    captured.write_text(json.dumps(response | {"finish_reason": "length"}))

    code, result, err = _run(capsys, "--refs", FIXTURES / "refs.json", captured)

    assert code == 0 and (result["status"], result["truncated"], len(result["items"])) == ("partial", True, 3)
    assert "truncated" in err


def test_a_legacy_document_is_a_raw_answer_not_a_response(capsys: pytest.CaptureFixture[str]) -> None:
    code, result, _ = _run(capsys, "--refs", FIXTURES / "refs.json", FIXTURES / "2026-06-26-monolithic.json")
    assert code == 0 and (result["status"], result["framing"]) == ("partial", "legacy")


def test_a_partial_answer_exits_0_and_names_the_reasons(
    tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = tmp_path / "answer.txt"
    answer.write_text(report(item(1), item(2, "nope")))
    code, result, err = _run(capsys, "--refs", refs, answer)
    assert code == 0 and result["status"] == "partial" and "(unknown_reference)" in err


def test_nothing_surviving_exits_1(tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "answer.txt"
    answer.write_text("I'm sorry, I can't rank these items today.")
    code, result, _ = _run(capsys, "--refs", refs, answer)
    assert code == 1 and result["status"] == "failed"


def test_the_definitions_dir_override_supplies_the_contract(
    tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definitions = tmp_path / "definitions"
    shutil.copytree(PROJECT_ROOT / "definitions", definitions)
    path = definitions / "daily-statehub-wsjf-triage.yaml"
    path.write_text(path.read_text().replace("top_n: 7", "top_n: 1"))
    answer = tmp_path / "answer.txt"
    answer.write_text(report(item(1), item(2)))

    code, result, _ = _run(capsys, "--definitions-dir", definitions, "--refs", refs, answer)

    assert code == 0 and len(result["items"]) == 1 and result["quarantined"][0]["reason"] == "over_item_cap"


@pytest.mark.parametrize(
    ("refs_text", "hint"),
    [
        ("not json", "is not JSON"),
        ('{"ids": []}', "must be a JSON list of id strings"),
        ("[1, 2]", "must be a JSON list"),
    ],
)
def test_bad_refs_are_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], refs_text: str, hint: str
) -> None:
    bad = tmp_path / "refs.json"
    bad.write_text(refs_text)
    answer = tmp_path / "answer.txt"
    answer.write_text(report(item(1)))
    code, result, err = _run(capsys, "--refs", bad, answer)
    assert (code, result) == (2, None) and hint in err


def test_usage_errors_say_what_to_fix(tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "answer.txt"
    answer.write_text(report(item(1)))

    code, _, err = _run(capsys, "--refs", refs, tmp_path / "missing.txt")
    assert code == 2 and "missing.txt does not exist" in err

    code, _, err = _run(capsys, "--refs", tmp_path / "nowhere.json", answer)
    assert code == 2 and "REFS.json" in err and "does not exist" in err

    code, _, err = _run(capsys, "--definition", "no-such-definition", "--refs", refs, answer)
    assert code == 2 and "no definition 'no-such-definition'" in err

    not_text = tmp_path / "response.json"
    not_text.write_text(json.dumps({"content": [{"type": "item"}], "finish_reason": "stop"}))
    code, _, err = _run(capsys, "--refs", refs, not_text)
    assert code == 2 and "content is a list" in err


def test_missing_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay-output", "answer.txt"])
    assert exited.value.code == 2 and "--refs" in capsys.readouterr().err


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay-output", "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "activity-core replay-output --definition daily-statehub-wsjf-triage --refs refs.json response.json" in out
    assert "Exit code: 0 clean or partial, 1 failed" in out


@pytest.mark.parametrize(
    "hostile",
    [b"[" * 100_000, b'{"content": ' + b"[" * 100_000, b'{"a":' * 50_000, b"{" * 100_000 + b"}" * 100_000],
    ids=["a nest of [", "a response holding a nest", "nested objects", "a deep but closed nest"],
)
def test_hostile_nesting_is_an_answer_to_judge_not_a_traceback(
    tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str], hostile: bytes
) -> None:
    capture = tmp_path / "capture.json"
    capture.write_bytes(hostile)

    code, result, err = _run(capsys, "--refs", refs, capture)

    assert code == 1 and result["status"] == "failed" and "Traceback" not in err
    assert {entry["reason"] for entry in result["quarantined"]} <= {"too_deep", "line_too_long", "total_too_large"}


def test_lines_that_are_not_utf8_cost_those_lines(
    tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = report(item(1), item(2), item(3)).encode().split(b"\n")
    lines[2] = lines[2].replace(b"Recommendation 2", b"Recommendation \xff\xfe 2")  # Latin-1 debris
    capture = tmp_path / "answer.ndjson"
    capture.write_bytes(b"\n".join(lines))

    code, result, err = _run(capsys, "--refs", refs, capture)

    assert code == 0 and result["status"] == "partial"
    assert sorted(i["candidate"] for i in result["items"]) == ["ws-1", "ws-3"]
    [bad] = result["quarantined"]
    assert (bad["reason"], bad["line"]) == ("invalid_encoding", 3) and "\ufffd" in bad["snippet"]
    assert "(invalid_encoding)" in err


def test_a_document_element_that_is_not_utf8_costs_that_element(
    tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elements = [{k: v for k, v in item(n).items() if k != "type"} for n in (1, 2, 3)]
    text = json.dumps({"date": "2026-06-26", "summary": "Three.", "items": elements}, indent=2)
    capture = tmp_path / "document.json"
    capture.write_bytes(text.encode().replace(b"Recommendation 2", b"Recommendation \xc3\x28"))

    code, result, _ = _run(capsys, "--refs", refs, capture)

    assert code == 0 and (result["status"], result["framing"], result["summary"]) == ("partial", "document", "Three.")
    assert [(q["reason"], q["index"]) for q in result["quarantined"]] == [("invalid_encoding", 1)]
    assert sorted(i["index"] for i in result["items"]) == [0, 2]


def test_a_directory_is_a_usage_error(tmp_path: Path, refs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--refs", refs, tmp_path)
    assert code == 2 and "is a directory" in err
