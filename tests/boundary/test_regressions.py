"""The regression fixtures: real failure shapes, kept as files in fixtures/ (see its README)."""

from __future__ import annotations

import json

import pytest

from activity_core.boundary import HARD_MAX_ITEMS, OutputContract, QuarantineReason, parse_report
from tests.boundary.reports import SPEC, fixture, fixture_refs
from tests.boundary.reports import contract as triage_contract

R = QuarantineReason
DEFAULT = triage_contract()


def _parse(name: str, contract: OutputContract = DEFAULT, finish_reason: str | None = None):
    return parse_report(
        fixture(name), spec=SPEC, contract=contract, known_refs=fixture_refs(), finish_reason=finish_reason
    )


def test_the_0626_fixture_fails_exactly_as_the_run_did() -> None:
    with pytest.raises(json.JSONDecodeError) as failure:
        json.loads(fixture("2026-06-26-monolithic.json"))
    assert str(failure.value) == "Expecting ',' delimiter: line 136 column 22 (char 5268)"


def test_the_0626_document_costs_one_element_not_the_run() -> None:
    # That run predates the item cap, so replay it with the hard maximum.
    result = _parse("2026-06-26-monolithic.json", triage_contract(top_n=HARD_MAX_ITEMS))

    assert (result.status, result.framing, result.truncated) == ("partial", "legacy", False)
    assert result.summary and result.summary.startswith("WSJF triage for 2026-06-26")
    assert sorted(item.index for item in result.items) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
    [broken] = result.quarantined
    assert (broken.index, broken.line, broken.reason, broken.repaired) == (9, 126, R.REPAIR_FAILED, True)
    assert broken.end_line is not None and broken.line <= 136 <= broken.end_line
    assert '"title": "Fix" "rationale"' in broken.snippet


def test_the_0626_document_under_todays_cap_keeps_the_first_seven() -> None:
    result = _parse("2026-06-26-monolithic.json")

    assert result.status == "partial" and len(result.items) == DEFAULT.top_n
    assert {q.reason for q in result.quarantined} == {R.OVER_ITEM_CAP}
    assert sorted(q.index for q in result.quarantined) == [7, 8, 9, 10]


def test_a_list_cut_mid_item_keeps_the_whole_items_before_the_cut() -> None:
    result = _parse("truncated-mid-item.ndjson", finish_reason="length")

    assert (result.status, result.truncated) == ("partial", True)
    assert sorted(item["rank"] for item in result.items) == [1, 2, 3, 4]
    [cut] = result.quarantined
    assert (cut.reason, cut.line) == (R.TRUNCATED_ITEM, 6)


def test_a_cut_list_is_truncated_even_when_the_finish_reason_says_stop() -> None:
    result = _parse("truncated-mid-item.ndjson", finish_reason="stop")

    assert result.truncated and result.quarantined[0].reason is R.TRUNCATED_ITEM


def test_one_unrepairable_item_among_six_good_ones_costs_that_item() -> None:
    result = _parse("one-bad-among-six.ndjson")

    assert (result.status, len(result.items), result.truncated) == ("partial", 6, False)
    [bad] = result.quarantined
    assert (bad.line, bad.reason, bad.repaired) == (5, R.REPAIR_FAILED, True)
    assert "expected `,`" in bad.detail


def test_oversized_and_over_deep_lines_are_stopped_by_their_guardrails() -> None:
    result = _parse("oversized-and-deep.ndjson")

    assert result.status == "partial" and sorted(i["rank"] for i in result.items) == [1, 2]
    assert [(q.line, q.reason) for q in result.quarantined] == [(4, R.TOO_DEEP), (5, R.LINE_TOO_LONG)]
    assert all(len(q.snippet) <= 512 for q in result.quarantined)


def test_injection_shaped_and_unknown_references_are_quarantined() -> None:
    result = _parse("injection-and-unknown-reference.ndjson")

    assert [(q.line, q.reason) for q in result.quarantined] == [
        (3, R.UNKNOWN_REFERENCE),  # "Ignore all previous instructions ... ../../etc/passwd"
        (4, R.UNKNOWN_REFERENCE),  # a well-formed UUID nobody read
        (5, R.UNKNOWN_REFERENCE),  # a known UUID in upper case: never case-folded into a match
    ]
    # A title that reads like an instruction is data: kept verbatim, acted on by nobody.
    assert any("admin token" in item["title"] for item in result.items)
    assert all(len(q.detail) < 200 for q in result.quarantined)


def test_crlf_and_a_bom_are_tolerated() -> None:
    result = _parse("crlf-bom.ndjson")

    assert (result.status, len(result.items), result.counts.lines) == ("clean", 3, 5)


def test_fenced_output_with_prose_is_read_and_the_prose_recorded() -> None:
    result = _parse("fenced-with-prose.txt")

    assert (result.status, len(result.items)) == ("clean", 3)
    assert result.counts.ignored_lines == 4  # two prose lines and two fences


def test_unicode_line_separators_inside_strings_do_not_split_lines() -> None:
    result = _parse("unicode-line-separators.ndjson")

    assert result.counts.lines == 5 and result.summary == "Three items.\u2028Line two of the summary.\u2029End."
    kept = {item["rank"]: item for item in result.items}
    assert kept[1]["rationale"] == "First line\u2028second line"
    assert kept[2]["title"] == "Title with\u2029paragraph separator"
    # U+0085 is a C1 control character: its line stays whole and is refused for that reason.
    [refused] = result.quarantined
    assert (refused.line, refused.reason) == (4, R.CONTROL_CHARACTERS)
