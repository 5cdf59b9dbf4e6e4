"""Output leaves the command's side redacted first, then bounded, with the cut marked."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activity_core.kinds.trigger.capture import (
    HEAD_BYTES,
    MAX_AUDIT_LINE_BYTES,
    TAIL_BYTES,
    BoundedBuffer,
    StreamCollector,
    StreamRedactor,
    parse_audit_line,
    secret_forms,
)

SECRET = "sk-PLANTED-7f3a9c1e5b"
FORMS = secret_forms({"STATE_HUB_TOKEN": SECRET})


def _redact_in_chunks(data: bytes, cuts: list[int]) -> tuple[bytes, int]:
    redactor = StreamRedactor(FORMS)
    out, start = b"", 0
    for cut in sorted(cuts):
        out += redactor.feed(data[start:cut])
        start = cut
    out += redactor.feed(data[start:]) + redactor.flush()
    return out, redactor.redactions


def test_a_secret_split_at_any_read_boundary_is_still_redacted() -> None:
    data = f"before {SECRET} middle {SECRET}after".encode()
    for cut in range(len(data) + 1):
        out, count = _redact_in_chunks(data, [cut])
        assert SECRET.encode() not in out, cut
        assert out == b"before [redacted $STATE_HUB_TOKEN] middle [redacted $STATE_HUB_TOKEN]after"
        assert count == 2


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12), st.binary(max_size=80))
def test_redaction_never_lets_the_secret_through_whatever_the_chunking(cuts: list[int], noise: bytes) -> None:
    data = noise + SECRET.encode() + noise + json.dumps(SECRET).encode() + SECRET.encode()[:5]
    out, count = _redact_in_chunks(data, [c % (len(data) + 1) for c in cuts])
    assert SECRET.encode() not in out
    assert count >= 2
    assert out.endswith(SECRET.encode()[:5])  # a mere prefix is not the secret, and is not lost


def test_the_json_escaped_form_is_redacted_too() -> None:
    quoted = 'pa"ss\\word-PLANTED'
    redactor = StreamRedactor(secret_forms({"DB_PASSWORD": quoted}))
    out = redactor.feed(json.dumps({"password": quoted}).encode()) + redactor.flush()
    assert b"PLANTED" not in out and b"[redacted $DB_PASSWORD]" in out


def test_a_value_too_short_to_redact_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\$PIN is shorter than 4 bytes"):
        secret_forms({"PIN": "123"})


def test_output_within_the_bound_is_kept_whole() -> None:
    buffer = BoundedBuffer()
    buffer.add(b"line one\n")
    buffer.add(b"line two\n")
    capture = buffer.capture()
    assert capture.text == "line one\nline two\n"
    assert (capture.total_bytes, capture.cut_bytes) == (18, 0)


def test_output_over_the_bound_keeps_head_and_tail_and_says_where_it_was_cut() -> None:
    buffer = BoundedBuffer()
    head = b"H" * HEAD_BYTES
    middle = b"M" * 100_000
    tail = b"T" * TAIL_BYTES
    for piece in (head, middle, tail):
        for start in range(0, len(piece), 4096):
            buffer.add(piece[start : start + 4096])
    capture = buffer.capture()
    assert capture.total_bytes == len(head) + len(middle) + len(tail)
    assert capture.cut_bytes == len(middle)
    kept_head, marker, kept_tail = capture.text.split("\n")
    assert kept_head == "H" * HEAD_BYTES and kept_tail == "T" * TAIL_BYTES
    assert marker == f"[activity-core: 100000 bytes cut here; kept the first {HEAD_BYTES} and the last {TAIL_BYTES}]"
    assert "M" not in capture.text


def test_the_audit_line_is_the_last_line_even_after_a_cut() -> None:
    collector = StreamCollector.for_secrets(FORMS)
    collector.feed(b"x" * 300_000 + b"\n")
    collector.feed(json.dumps({"messages": 4, "token": SECRET}).encode() + b"\n\n")
    collector.close()
    assert parse_audit_line(collector.buffer.last_line()) == {"messages": 4, "token": "[redacted $STATE_HUB_TOKEN]"}


@pytest.mark.parametrize(
    ("stream", "audit"),
    [
        (b'plan\n{"messages": 1, "failed": 0}\n', {"messages": 1, "failed": 0}),
        (b'{"messages": 1}', {"messages": 1}),
        (b'{"messages": 1}\nbye\n', None),  # the audit line must be the last one
        (b"[1, 2]\n", None),  # an array is not a summary
        (b"", None),
        (b"\xff\xfe{}\n", None),
        (b"y" * (MAX_AUDIT_LINE_BYTES + 10), None),  # one line too long to be an audit summary
    ],
)
def test_parse_audit_line(stream: bytes, audit: dict | None) -> None:
    buffer = BoundedBuffer()
    buffer.add(stream)
    assert parse_audit_line(buffer.last_line()) == audit
