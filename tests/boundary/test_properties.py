"""Properties that hold for any input: it returns, it accounts for every line, it only keeps
what is valid and known, and hostile input costs bounded work."""

from __future__ import annotations

import functools
import json
import time
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activity_core.boundary import BoundaryLimits, BoundaryResult, OutputContract, parse_report, parser
from activity_core.boundary.result import SNIPPET_CHARS
from activity_core.kinds.instruction.wsjf import Recommendation
from tests.boundary.reports import REFS, SPEC, envelope, item, line, trailer
from tests.boundary.reports import contract as triage_contract

KNOWN = REFS[:10]


def _lines_of(content: str) -> int:
    """Non-blank lines, counted independently of the parser."""
    return sum(1 for part in content.removeprefix("\ufeff").split("\n") if part.strip())


def check_invariants(content: str, result: BoundaryResult, contract: OutputContract) -> None:
    counts = result.counts
    parts = (
        counts.envelope_lines
        + counts.item_lines
        + counts.trailer_lines
        + counts.ignored_lines
        + counts.quarantined_lines
    )
    assert parts == counts.lines == _lines_of(content)
    assert counts.accepted == len(result.items) <= contract.top_n
    assert counts.quarantined == len(result.quarantined)
    assert len(result.quarantined) <= contract.limits.max_quarantine_entries + 2  # + the two ranges
    candidates = [accepted["candidate"] for accepted in result.items]
    assert len(set(candidates)) == len(candidates) and set(candidates) <= set(KNOWN)
    for accepted in result.to_dict()["items"]:
        fields = {name: value for name, value in accepted.items() if name in Recommendation.model_fields}
        Recommendation.model_validate_json(json.dumps(fields))
    assert all(len(entry.snippet) <= SNIPPET_CHARS for entry in result.quarantined)
    assert (result.status == "failed") == (not result.items)
    assert result.status != "clean" or not (result.truncated or result.quarantined)
    assert BoundaryResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


# -- generated content ---------------------------------------------------------------------

_candidates = st.sampled_from([*KNOWN, "unknown-1", "WS-1", " ws-2", "ws-1\u202e"])
_good_item = st.builds(lambda rank, cand: line(item(rank, cand)), st.integers(1, 20), _candidates)


def _damaged(text: str, cut: int, junk: str) -> str:
    cut %= max(len(text), 1)
    return text[:cut] + junk + text[cut + len(junk) :]


_noise = st.sampled_from(
    ['"', "\\", "{", "}", "[", "]", ",", ":", "\n", "\r", "\u2028", "\u0085", "NaN", "\\ud800", "```"]
)
_line = st.one_of(
    _good_item,
    st.just(line(envelope(3))),
    st.just(line(trailer(3))),
    st.builds(_damaged, _good_item, st.integers(0, 600), _noise),
    st.builds(lambda text, n: text[:n], _good_item, st.integers(0, 600)),
    st.sampled_from(["", "   ", "Here is the report:", "```json", "```", "\ufeff", "[" * 50, '{"type": "item"' * 3]),
    st.text(max_size=40),
)
_separator = st.sampled_from(["\n", "\r\n", "\n\n", "\u2028", " "])


@st.composite
def _contents(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 3)) == 0:  # now and then, a legacy document
        picks = draw(st.lists(st.tuples(st.integers(1, 20), _candidates), max_size=12))
        elements = [{k: v for k, v in item(rank, cand).items() if k != "type"} for rank, cand in picks]
        document = json.dumps({"summary": "s", "recommendations": elements}, indent=draw(st.sampled_from([None, 2])))
        return _damaged(document, draw(st.integers(0, 4000)), draw(_noise)) if draw(st.booleans()) else document
    return "".join(text + draw(_separator) for text in draw(st.lists(_line, max_size=25)))


_contracts = st.builds(
    lambda top_n, total, per_line, depth, entries: triage_contract(
        top_n=top_n,
        limits=BoundaryLimits(
            max_total_bytes=total, max_line_bytes=per_line, max_depth=depth, max_quarantine_entries=entries
        ),
    ),
    st.integers(1, 20),
    st.sampled_from([64, 1024, 4096, 256 * 1024]),
    st.sampled_from([40, 400, 16 * 1024]),
    st.integers(1, 10),
    st.integers(1, 64),
)

_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@_SETTINGS
@given(content=_contents(), contract=_contracts, finish_reason=st.sampled_from([None, "stop", "length"]))
def test_any_report_shaped_input_keeps_the_invariants(
    content: str, contract: OutputContract, finish_reason: str | None
) -> None:
    result = parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN, finish_reason=finish_reason)
    check_invariants(content, result, contract)


@_SETTINGS
@given(content=st.text(max_size=2000))
def test_any_text_at_all_keeps_the_invariants(content: str) -> None:
    contract = triage_contract()
    check_invariants(content, parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN), contract)


@_SETTINGS
@given(content=st.text(alphabet='{}[]",:\\ \nab1eE.-+tfnul\u2028', max_size=3000))
def test_json_punctuation_soup_keeps_the_invariants(content: str) -> None:
    contract = triage_contract(limits=BoundaryLimits(max_line_bytes=4096))
    check_invariants(content, parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN), contract)


# -- adversarial inputs: bounded work ------------------------------------------------------------
# A super-linear step on a megabyte would take minutes, not the milliseconds a linear one takes,
# so a generous bound tells the two apart without flaking on a busy machine.

MEGABYTE = 1024 * 1024
RAISED = triage_contract(
    limits=BoundaryLimits(
        max_total_bytes=4 * MEGABYTE, max_line_bytes=4 * MEGABYTE, max_depth=64, max_quarantine_entries=100_000
    )
)
ADVERSARIAL = {
    "a megabyte of [": "[" * MEGABYTE,
    "a megabyte of {": '{"a":' * (MEGABYTE // 5),
    "an unterminated megabyte string": '{"type": "item", "title": "' + "a" * MEGABYTE,
    "a megabyte of escapes": '{"type": "item", "title": "' + "\\" * MEGABYTE,
    "100k short lines": "{\n" * 100_000,
    "100k prose lines": "x\n" * 100_000,
    "100k junk lines": '{"a"\n' * 100_000,
    "many tiny legacy elements": '{"summary": "s", "recommendations": [' + "1," * (MEGABYTE // 2) + "1]}",
    "a megabyte of quotes": '"' * MEGABYTE,
}


@pytest.mark.parametrize("contract", [triage_contract(), RAISED], ids=["defaults", "limits raised"])
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_input_is_bounded(name: str, contract: OutputContract) -> None:
    content = ADVERSARIAL[name]
    started = time.perf_counter()
    result = parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN)
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0, f"{name}: {elapsed:.2f} s"
    assert result.status == "failed"
    check_invariants(content, result, contract)


# -- the batch path and the line-by-line path agree ------------------------------------------------

_framed_line = st.one_of(
    _good_item,
    st.just(line(envelope(3))),
    st.just(line(trailer(3))),
    st.builds(lambda rank: line(item(rank)).replace('"rank": ', '"rank": 1, "rank": ', 1), st.integers(1, 20)),
    st.builds(lambda rank: line(item(rank)).replace('"job_size"', '"score": null, "job_size"', 1), st.integers(1, 20)),
    st.builds(lambda rank: line(item(rank, title="a: b: c")), st.integers(1, 20)),
    st.builds(lambda rank: line(item(rank, title="x:y")).replace("x:y", "x\\u003ay"), st.integers(1, 20)),
    st.builds(lambda rank: line(item(rank, title="Use ghp_" + "a1B2c3D4e5" * 4)), st.integers(1, 20)),
    st.builds(
        lambda rank: line(
            item(
                rank,
                wsjf={"business_value": 1, "time_criticality": 1, "risk_reduction": 1, "job_size": 1, "score": 99},
            )
        ),
        st.integers(1, 20),
    ),
)
"""Lines of a framed report, clean or with what the fast paths must not miss."""
_clean_lines = st.lists(
    _framed_line,
    min_size=parser.BATCH_MIN_LINES - 4,
    max_size=parser.BATCH_MIN_LINES + 30,
)


@_SETTINGS
@given(lines=_clean_lines, contract=_contracts, trailing=st.sampled_from(["", "\n"]))
def test_the_batch_path_reads_exactly_as_the_line_path(
    lines: list[str], contract: OutputContract, trailing: str
) -> None:
    content = "\n".join(lines) + trailing
    batched = parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN)
    with mock.patch.object(parser, "_batched", lambda *args: None):
        by_line = parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN)
    assert batched.to_dict() == by_line.to_dict()


def test_the_batch_path_is_taken_for_a_clean_report() -> None:
    items = [line(item(n % 20 + 1, KNOWN[n % len(KNOWN)])) for n in range(parser.BATCH_MIN_LINES)]
    content = "\n".join([line(envelope(2)), *items, line(trailer(2))])
    with mock.patch.object(parser, "_read_lines", side_effect=AssertionError("read line by line")):
        result = parse_report(content, spec=SPEC, contract=triage_contract(top_n=20), known_refs=KNOWN)
    assert result.counts.accepted == len(KNOWN) and result.counts.quarantined_lines == parser.BATCH_MIN_LINES - len(
        KNOWN
    )


@_SETTINGS
@given(lines=st.lists(_framed_line, max_size=25), contract=_contracts)
def test_the_deferred_duplicate_check_reads_exactly_as_checking_each_line(
    lines: list[str], contract: OutputContract
) -> None:
    content = "\n".join(lines)
    deferred = parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN)
    each_line = functools.partial(parser._read_lines, defer_duplicates=False)
    with mock.patch.object(parser, "_read_lines", each_line):
        checked = parse_report(content, spec=SPEC, contract=contract, known_refs=KNOWN)
    assert deferred.to_dict() == checked.to_dict()
