"""What the boundary needs to know about one kind of report item, and how to rank items.

The boundary is generic: framing, strict JSON, repair, guardrails, the reference allow-list,
truncation, document salvage and the ledger are the same for any item model. A definition
kind registers an ``ItemSpec`` (the item model and which of its fields name references) and
optionally a ``Ranking`` (the order of accepted items and what it recomputes), and a
definition names them in its ``output:`` section.

An item model is a ``ContractModel`` subclass (strict, closed). The boundary compiles it
into a fast decoder (``compiled.py``), which supports ``str``, ``int`` and ``float`` with
bounds, ``bool``, ``Literal``, optional fields, nested contract models and lists of them:
every integer needs a range and every float must refuse NaN and Infinity, or the spec is
refused when it is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

# Keys the boundary adds to an accepted item, or that frame a line: an item model may not use them.
RESERVED_FIELDS = frozenset({"type", "repaired", "line", "index"})


Assessment = tuple[float, bool]
"""A ranking's view of one accepted item (a plain tuple: one is built per accepted item): the
sort key (smallest first; ties keep the input order), and whether the producer's own claim
disagrees with what the ranking recomputes (the item is kept, flagged and counted)."""


@dataclass(frozen=True)
class Ranking:
    """How accepted items are ordered; the producer's claims are checked, never trusted."""

    name: str
    assess: Callable[[Any], Assessment]
    """Called with each accepted item as decoded (fields read by attribute, as on the model)."""
    computed: Callable[[Any], dict[str, Any]]
    """What the ranking recomputed, added to an accepted item's values when they are asked for
    (names: ``computed_fields``); only the order and the flag are needed to parse."""
    computed_fields: tuple[str, ...]
    applies_to: type[BaseModel]
    """The item model (or a base of it) whose fields ``assess`` reads."""


@dataclass(frozen=True, eq=False)
class ItemSpec:
    """One registered item model, as the boundary reads it (compared by identity: one per name)."""

    schema_id: str
    """Versioned id of one item line, e.g. ``report-item.v1``; its schema file is ``<name>.schema.json``."""
    model: type[BaseModel]
    """One item as the producer writes it, without the line's ``type`` (a document element)."""
    reference_fields: tuple[str, ...]
    """Text fields whose values must each be one of the ids known to the run (compared exactly);
    together they identify an item: a second accepted item with the same values is a duplicate."""
    document_schema_id: str
    """Versioned id of the whole-report document of these items (``output.framing: document``)."""
    string_limits: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Default maximum characters of top-level text fields; a definition may override each."""
    legacy_key: str | None = None
    """The array key of an older monolithic document of these items, still read when it comes."""
    legacy_schema_id: str | None = None

    def __post_init__(self) -> None:
        fields = self.model.model_fields
        if reserved := RESERVED_FIELDS & set(fields):
            raise ValueError(
                f"{self.schema_id}: the item model may not name {sorted(reserved)}: the boundary uses them"
            )
        if not self.reference_fields:
            raise ValueError(f"{self.schema_id}: name at least one reference field for the allow-list")
        for name in (*self.reference_fields, *self.string_limits):
            if name not in fields or fields[name].annotation is not str:
                raise ValueError(f"{self.schema_id}: {name!r} is not a text field of {self.model.__name__}")
        if (self.legacy_key is None) != (self.legacy_schema_id is None):
            raise ValueError(f"{self.schema_id}: a legacy document needs both its key and its schema id")
        object.__setattr__(self, "string_limits", MappingProxyType(dict(self.string_limits)))

    def text_fields(self) -> frozenset[str]:
        return frozenset(name for name, info in self.model.model_fields.items() if info.annotation is str)


@dataclass(frozen=True)
class ReportSpec:
    """An item model and its ranking: everything item-specific ``parse_report`` needs."""

    items: ItemSpec
    ranking: Ranking | None = None

    def __post_init__(self) -> None:
        ranking = self.ranking
        if ranking is None:
            return
        if not issubclass(self.items.model, ranking.applies_to):
            raise ValueError(
                f"ranking {ranking.name!r} ranks {ranking.applies_to.__name__} items, not {self.items.model.__name__}"
            )
        if clash := set(ranking.computed_fields) & (set(self.items.model.model_fields) | RESERVED_FIELDS):
            raise ValueError(f"ranking {ranking.name!r} computes {sorted(clash)}, which the item already uses")
