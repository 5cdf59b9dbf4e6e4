"""The validators an output contract calls for, built once per set of string limits.

The report schema is one version for every definition; the string-length limits are per
definition. Folding each definition's limits into subclasses of the contract models, as
``max_length``, lets pydantic-core check them in the same pass as everything else, while the
models themselves (and the committed schemas generated from them) stay free of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from activity_core.boundary.contract import StringLimits
from activity_core.boundary.models import (
    ENVELOPE_TAG,
    ITEM_TAG,
    Envelope,
    LegacyReport,
    Recommendation,
    ReportItem,
    Trailer,
)


# Report values are nearly all distinct, so pydantic-core's string cache costs more than it saves.
_UNCACHED = ConfigDict(cache_strings=False)


@dataclass(frozen=True, slots=True)
class UnitKind:
    """What a unit is expected to be: the validator for it and, for a single model, the tag
    it stands for (a line says its own in ``type``)."""

    validator: Any  # pydantic-core's own: the TypeAdapter wrapper would cost a call per unit
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class UnitKinds:
    line: UnitKind
    """An envelope, item or trailer, told apart by ``type``."""
    element: UnitKind
    """A legacy ``recommendations`` element."""
    legacy_envelope: UnitKind
    """A legacy document with its array emptied."""


def _bounded(model: type[BaseModel], limits: StringLimits) -> type[BaseModel]:
    bounds = {
        name: (Annotated[field.annotation, field, Field(max_length=getattr(limits, name))], ...)
        for name, field in model.model_fields.items()
        if name in StringLimits.model_fields
    }
    return create_model(model.__name__, __base__=model, __module__=model.__module__, **bounds)  # type: ignore[call-overload, no-any-return]


@functools.lru_cache(maxsize=16)
def unit_kinds(limits: StringLimits) -> UnitKinds:
    line = Annotated[
        _bounded(Envelope, limits) | _bounded(ReportItem, limits) | Trailer,  # type: ignore[operator]
        Field(discriminator="type"),
    ]
    return UnitKinds(
        line=UnitKind(TypeAdapter(line, config=_UNCACHED).validator),
        element=UnitKind(TypeAdapter(_bounded(Recommendation, limits)).validator, ITEM_TAG),
        legacy_envelope=UnitKind(TypeAdapter(_bounded(LegacyReport, limits)).validator, ENVELOPE_TAG),
    )
