"""The one bounded repair attempt: what it fixes, and what it refuses to guess."""

from __future__ import annotations

import json

import pytest

from activity_core.boundary.repair import MAX_TOKENS, repair


@pytest.mark.parametrize(
    ("broken", "repaired", "cut"),
    [
        ('{"a": 1,}', '{"a": 1}', False),  # trailing comma
        ('{"a": [1, 2,], "b": 3}', '{"a": [1, 2], "b": 3}', False),
        ('```json {"a": 1}```', '{"a": 1}', False),  # a fence on the same line
        ('- {"a": 1}', '{"a": 1}', False),  # a bullet
        ('{"a": 1}},', '{"a": 1}', False),  # junk after the object
        ('{"a": "x" "b": 2}', '{"a": "x"}', False),  # a missing comma: keep the valid prefix
        ('{"a": "hel', '{"a": "hel"}', True),  # unterminated string
        ('{"a": "hel\\', '{"a": "hel"}', True),  # ...ending in half an escape
        ('{"a": "x\\u00e', '{"a": "x"}', True),
        ('{"a": "b\\\\', '{"a": "b\\\\"}', True),  # an escaped backslash is whole
        ('{"a": 1, "b', '{"a": 1}', True),  # a key cut off
        ('{"a": 1, "b":', '{"a": 1}', True),
        ('{"a": 12', '{"a": 12}', True),
        ('{"a": 1, "b": 1.', '{"a": 1}', True),  # a number cut off
        ('{"a": 1, "b": tru', '{"a": 1}', True),
        ('{"a": {"b": [1, {"c": "d', '{"a": {"b": [1, {"c": "d"}]}}', True),
    ],
)
def test_repairs(broken: str, repaired: str, cut: bool) -> None:
    result = repair(broken, max_depth=8)
    assert result is not None and (result.text, result.cut) == (repaired, cut)
    json.loads(result.text)


@pytest.mark.parametrize(
    "hopeless",
    [
        "no object here",
        '{"a": 1} {"b": 2}',  # a second value is not ours to drop
        '{"a": 1.2.3}',  # nothing to change
        "{ranking: pending",  # nothing but the brace would survive
        '{"a" 1}',
    ],
)
def test_what_repair_declines(hopeless: str) -> None:
    assert repair(hopeless, max_depth=8) is None


def test_repair_respects_the_depth_limit() -> None:
    assert repair('{"a": ' * 9, max_depth=8) is None


def test_repair_is_bounded_by_tokens_not_by_length() -> None:
    many = "{" + ", ".join(f'"k{n}": {n}' for n in range(MAX_TOKENS)) + ","
    assert repair(many, max_depth=8) is None
    long_string = '{"a": "' + "x" * 1_000_000
    assert repair(long_string, max_depth=8).text == long_string + '"}'
