"""The business key a task is filed under in issue-core, and the payload hash.

A Temporal id (run id + activity id) dedupes the retries of one run only: a manual re-run,
a backfilled tick or a replay of the same day gets a new run id and would file the task
again. The key is therefore made of what the task is about, not of who sends it::

    ac1:<definition id>:<candidate>:<fingerprint of the action and repo>:e<episode>

While the task of an episode is open, the same recommendation finds it under the same key;
once it is closed, the next recurrence opens episode n+1. A comment on a recurrence is keyed
``<task key>:c<occurrence date>``, so a re-run of the same day adds no second comment.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import date
from typing import Any

KEY_VERSION = "ac1"
FINGERPRINT_CHARS = 16
_NOT_WORD = re.compile(r"[\W_]+")


def normalize_action(text: str) -> str:
    """The action as words only: Unicode-folded, lower case, punctuation and spacing gone, so
    that "Open a task, for the repo." and "open a task for the repo" are the same action."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def action_fingerprint(action: str, repo: str) -> str:
    """What is asked, and where: a task for the same action in another repo is another task."""
    text = f"{normalize_action(action)}\n{repo.strip().casefold()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def base_key(definition_id: str, candidate: str, fingerprint: str) -> str:
    """Shared by every episode of one recommendation."""
    return f"{KEY_VERSION}:{definition_id}:{candidate}:{fingerprint}"


def episode_key(base: str, episode: int) -> str:
    if episode < 1:
        raise ValueError("episodes count from 1")
    return f"{base}:e{episode}"


def comment_key(task_key: str, occurrence: date) -> str:
    return f"{task_key}:c{occurrence.isoformat()}"


def payload_hash(body: dict[str, Any]) -> str:
    """sha256 of the body as canonical JSON (sorted keys, no spaces): equal bodies, equal hashes."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
