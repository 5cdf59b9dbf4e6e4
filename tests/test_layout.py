"""The rules of the house that a grep can hold: a kind's words stay in its folder, only
``store/`` speaks SQL through asyncpg."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "activity_core"


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_instruction_kind_names_wsjf_or_the_triage_definition() -> None:
    allowed = (PACKAGE / "kinds" / "instruction", PACKAGE / "devstack" / "llm_connect_emulator.py")
    naming = [
        str(path.relative_to(PACKAGE))
        for path in _sources()
        if not any(path.is_relative_to(a) for a in allowed) and re.search("wsjf", path.read_text(), re.IGNORECASE)
    ]
    assert naming == []


def test_only_the_store_imports_asyncpg() -> None:
    importing = [
        str(path.relative_to(PACKAGE))
        for path in _sources()
        if not path.is_relative_to(PACKAGE / "store")
        and re.search(r"^\s*(import asyncpg|from asyncpg)", path.read_text(), re.MULTILINE)
    ]
    assert importing == []
