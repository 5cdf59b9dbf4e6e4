"""The business key: the same recommendation keeps its key however it is worded or sent."""

from __future__ import annotations

from datetime import date

import pytest

from activity_core.tasks.keys import (
    action_fingerprint,
    base_key,
    comment_key,
    episode_key,
    normalize_action,
    payload_hash,
)


def test_the_action_is_compared_as_words() -> None:
    assert normalize_action("  Open a task,\tfor the REPO. ") == normalize_action("open a task for the repo")
    assert normalize_action("Ｏｐｅｎ — a task") == "open a task"  # full-width letters fold, the dash goes
    assert normalize_action("open a task") != normalize_action("close a task")


def test_the_fingerprint_follows_the_action_and_the_repo_only() -> None:
    same = action_fingerprint("Open a task, for the repo.", "activity-core")
    assert same == action_fingerprint("open a task for the repo", " Activity-Core ")
    assert same != action_fingerprint("open a task for the repo", "llm-connect")
    assert same != action_fingerprint("review the design", "activity-core")
    assert len(same) == 16 and int(same, 16) >= 0


def test_keys_name_definition_candidate_fingerprint_and_episode() -> None:
    base = base_key("daily-statehub-wsjf-triage", "ws-1", "0123456789abcdef")
    assert base == "ac1:daily-statehub-wsjf-triage:ws-1:0123456789abcdef"
    assert episode_key(base, 2) == f"{base}:e2"
    assert comment_key(f"{base}:e2", date(2026, 6, 27)) == f"{base}:e2:c2026-06-27"
    with pytest.raises(ValueError):
        episode_key(base, 0)


def test_the_payload_hash_ignores_key_order_and_sees_every_value() -> None:
    assert payload_hash({"a": 1, "b": [1, 2]}) == payload_hash({"b": [1, 2], "a": 1})
    assert payload_hash({"a": 1}) != payload_hash({"a": 2})
