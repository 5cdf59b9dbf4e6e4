"""The legacy monolithic document, salvaged element by element."""

from __future__ import annotations

import json

from activity_core.boundary import QuarantineReason, parse_report
from activity_core.boundary.document import ArrayDocument
from tests.boundary.reports import REFS, SPEC, contract, item

R = QuarantineReason


def legacy(*elements: dict, summary: str = "Legacy triage.") -> str:
    recommendations = [{k: v for k, v in e.items() if k != "type"} for e in elements]
    return json.dumps({"summary": summary, "recommendations": recommendations}, indent=2)


def parse(content: str, finish_reason: str | None = None):
    return parse_report(content, spec=SPEC, contract=contract(), known_refs=REFS, finish_reason=finish_reason)


def test_a_valid_legacy_document_is_clean() -> None:
    result = parse(legacy(item(1), item(2)))
    assert (result.status, result.framing, result.summary) == ("clean", "legacy", "Legacy triage.")
    assert [(i.index, i.line) for i in result.items] == [(0, 4), (1, 17)]
    counts = result.counts
    assert counts.item_lines + counts.envelope_lines == counts.lines


def test_a_single_line_legacy_document_is_read_too() -> None:
    content = json.dumps(
        {"summary": "One line.", "recommendations": [{k: v for k, v in item(1).items() if k != "type"}]}
    )
    result = parse(content)
    assert (result.status, result.framing, len(result.items)) == ("clean", "legacy", 1)


def test_a_broken_element_costs_that_element() -> None:
    content = legacy(item(1), item(2), item(3)).replace('"candidate": "ws-2",', '"candidate": "ws-2"', 1)
    result = parse(content)
    assert [i.index for i in result.items] == [0, 2]
    [broken] = result.quarantined
    assert (broken.index, broken.reason) == (1, R.REPAIR_FAILED)


def test_a_stray_quote_cannot_swallow_the_rest_of_a_pretty_document() -> None:
    content = legacy(item(1), item(2), item(3)).replace('"Recommendation 2"', '"Recommendation "2"', 1)
    result = parse(content)
    assert [i.index for i in result.items] == [0, 2] and result.quarantined[0].index == 1


def test_a_missing_comma_between_elements_costs_nothing() -> None:
    content = legacy(item(1), item(2)).replace("},\n    {", "}\n    {", 1)
    result = parse(content)
    assert (result.status, len(result.items)) == ("clean", 2)


def test_a_document_cut_mid_element_keeps_the_elements_before() -> None:
    content = legacy(item(1), item(2), item(3))
    result = parse(content[: content.index('"Recommendation 3"')], finish_reason="length")
    assert (result.status, result.truncated) == ("partial", True)
    assert [i.index for i in result.items] == [0, 1]
    assert [(q.index, q.reason) for q in result.quarantined] == [(2, R.TRUNCATED_ITEM)]
    assert result.summary == "Legacy triage."


def test_an_invalid_envelope_loses_the_summary_not_the_items() -> None:
    content = legacy(item(1)).replace('"summary": "Legacy triage."', '"summary": ""')
    result = parse(content)
    assert (result.status, result.summary, len(result.items)) == ("partial", None, 1)
    assert result.quarantined[0].reason is R.ENVELOPE_INVALID


def test_prose_around_a_document_is_ignored_and_counted() -> None:
    content = "Here you go:\n```json\n" + legacy(item(1)) + "\n```\nThanks."
    result = parse(content)
    assert result.status == "clean" and result.counts.ignored_lines == 4


def test_a_document_without_a_top_level_array_is_not_a_legacy_report() -> None:
    content = json.dumps({"report": {"recommendations": []}})
    result = parse(content)
    assert (result.status, result.framing) == ("failed", "none")


def test_the_scanner_finds_element_boundaries_by_depth_outside_strings() -> None:
    text = '{"summary": "s", "recommendations": [{"a": "]}"}, [1, [2]], "x,y", 3]}'
    document = ArrayDocument(text, ("recommendations",))
    spans = [text[e.start : e.end] for e in document.elements()]
    assert spans == ['{"a": "]}"}', "[1, [2]]", '"x,y"', "3"]
    assert document.closed and document.envelope_text() == '{"summary": "s", "recommendations": []}'
