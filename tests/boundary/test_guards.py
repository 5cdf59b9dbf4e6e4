"""The cheap measures the guardrails rest on."""

from __future__ import annotations

import pytest

from activity_core.boundary.framing import count_nonblank, looks_like_json, within_budget
from activity_core.boundary.guards import nesting_depth, too_deep, utf8_size


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ('{"a": {"b": [1, [2]]}}', 4),
        ('{"a": "[[[[{{{{"}', 1),
        ('{"a": "\\"[[[["}', 1),
        ('{"a": "unterminated [[[[', 1),
        ("]]]][[", 0),
        ("[" * 100_000, 100_000),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_too_deep_skips_the_scan_for_flat_text() -> None:
    assert too_deep('{"a": [1]}', 2) is None and too_deep("[[[", 2) == 3


def test_utf8_size() -> None:
    assert utf8_size("abc") == 3 and utf8_size("ü€") == 5 and utf8_size("a\ud800") is None


def test_the_budget_keeps_whole_lines() -> None:
    assert within_budget("aaa\nbbb\nccc", 9).kept == "aaa\nbbb\n"
    assert within_budget("aaa\nbbb", 100).overflow == ""
    assert within_budget("ü\nü\nü", 6).kept == "ü\nü\n"  # 3 bytes per line
    assert within_budget("x" * 50, 10).kept == ""


def test_nonblank_lines_match_strip() -> None:
    lines = ["", "  ", "\t\r", "a", " b ", "\u2028", "\ufeff"]
    assert count_nonblank(lines) == sum(1 for line in lines if line.strip())


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"type": "item"}', True),
        ("[1]", True),
        ('Here: {"type": "x"}', True),
        ("Use {date} here", False),
        ("```json", False),
    ],
)
def test_what_looks_like_json(line: str, expected: bool) -> None:
    assert looks_like_json(line) is expected
