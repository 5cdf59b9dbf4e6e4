"""The decoders and validators an output contract calls for, built once per item spec and limits.

A report's schemas are one version for every definition; the string-length limits are per
definition. They are folded into subclasses of the contract models (pydantic, as
``max_length``) and into the compiled structs (msgspec), so both check them in the same pass as
everything else, while the models themselves and the committed schemas stay free of them.

Each unit kind has a fast decoder (msgspec; absent for the one-per-report envelopes, where
speed does not matter) and a pydantic-core validator, which the slow path uses to name what is
wrong and the careful path to check what the fast decoder does not mirror.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Annotated, Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from activity_core.boundary.compiled import Compiled, Shape, compile_model
from activity_core.boundary.contract import DEFAULT_SUMMARY_CHARS, HARD_MAX_ITEMS
from activity_core.boundary.models import (
    DOCUMENT_ITEMS_KEY,
    ENVELOPE_TAG,
    ITEM_TAG,
    TRAILER_TAG,
    ContractModel,
    Envelope,
    IsoDate,
    Text,
    Trailer,
)
from activity_core.boundary.spec import ItemSpec

# Report values are nearly all distinct, so pydantic-core's string cache costs more than it saves.
_UNCACHED = ConfigDict(cache_strings=False)


@dataclass(frozen=True, slots=True)
class UnitKind:
    """What a unit is expected to be."""

    validator: Any
    """pydantic-core's own validator: the TypeAdapter wrapper would cost a call per unit."""
    decode: Callable[[str], Any] | None = None
    """The fast decoder (msgspec), or None where pydantic alone judges."""
    decode_lines: Callable[[str], list[Any]] | None = None
    """The same decoder over whitespace-separated units (the batch path)."""
    tags: Mapping[type, str] | None = None
    """Struct type -> the ``type`` tag it stands for."""
    careful: frozenset[type] = frozenset()
    """Struct types whose units pydantic validates too (a constraint the struct does not mirror)."""
    fast_tags: Mapping[type, str] = field(default_factory=dict)
    """``tags`` without the careful structs: what the fast path may take as it decodes it."""
    tag: str | None = None
    """The tag every unit of this kind stands for, when it is a single model."""
    depth: int = 1
    """How deep a valid unit nests."""
    shapes: Mapping[type, Shape] | None = None
    """Each struct's shape, when every one is plain and fully mirrored: the batch path may read it."""


@dataclass(frozen=True, slots=True)
class UnitKinds:
    line: UnitKind
    """An envelope, item or trailer, told apart by ``type``."""
    element: UnitKind
    """An element of a document's item array."""
    document_envelope: UnitKind
    """A whole-report document with its array emptied."""
    legacy_envelope: UnitKind | None
    """A legacy document with its array emptied."""
    item_struct: type
    """The struct an accepted item decodes to (the line's, tagged)."""
    element_struct: type
    references: Callable[[Any], Any]
    """An item's reference values (one, or a tuple for several reference fields)."""
    document_keys: tuple[str, ...]
    """The array keys a document of these items may hold them under."""


def string_limits(spec: ItemSpec, overrides: Mapping[str, int]) -> dict[str, int]:
    """Effective maximum characters per text field: the summary's, the item spec's, the definition's."""
    return {"summary": DEFAULT_SUMMARY_CHARS, **spec.string_limits, **overrides}


def unit_kinds(spec: ItemSpec, overrides: Mapping[str, int]) -> UnitKinds:
    return _unit_kinds(spec, tuple(sorted(overrides.items())))


def framed_item_model(spec: ItemSpec) -> type[BaseModel]:
    """One item line: the item model plus ``"type": "item"``."""
    return _framed(spec.model, spec.schema_id)


def document_model(spec: ItemSpec, limits: Mapping[str, int] | None = None) -> type[BaseModel]:
    """The whole-report document: the envelope's date and summary, and the items."""
    element = _bounded(spec.model, limits) if limits else spec.model
    summary = _bounded_text("summary", limits)
    items = Annotated[list[element], Field(max_length=HARD_MAX_ITEMS)]  # type: ignore[valid-type]
    return create_model(  # type: ignore[call-overload, no-any-return]
        "ReportDocument",
        __base__=ContractModel,
        __module__=__name__,
        date=(IsoDate, ...),
        summary=(summary, ...),
        **{DOCUMENT_ITEMS_KEY: (items, ...)},
    )


def legacy_model(spec: ItemSpec, limits: Mapping[str, int] | None = None) -> type[BaseModel] | None:
    """The older monolithic document: a summary and the items under the spec's legacy key."""
    if spec.legacy_key is None:
        return None
    element = _bounded(spec.model, limits) if limits else spec.model
    return create_model(  # type: ignore[call-overload, no-any-return]
        "LegacyReport",
        __base__=ContractModel,
        __module__=__name__,
        summary=(_bounded_text("summary", limits), ...),
        **{spec.legacy_key: (list[element], ...)},  # type: ignore[valid-type]
    )


@functools.lru_cache(maxsize=32)
def _unit_kinds(spec: ItemSpec, overrides: tuple[tuple[str, int], ...]) -> UnitKinds:
    limits = string_limits(spec, dict(overrides))
    envelope, item, trailer = (
        compile_model(Envelope, tag=ENVELOPE_TAG, limits=limits),
        compile_model(spec.model, tag=ITEM_TAG, limits=limits, name=spec.model.__name__ + "Line"),
        compile_model(Trailer, tag=TRAILER_TAG),
    )
    element = compile_model(spec.model, limits=limits)
    compiled = (envelope, item, trailer)
    line_model: Any = Annotated[
        _bounded(Envelope, limits) | _framed(_bounded(spec.model, limits), spec.schema_id) | Trailer,  # type: ignore[operator]
        Field(discriminator="type"),
    ]
    line_decoder = msgspec.json.Decoder(envelope.struct | item.struct | trailer.struct)  # type: ignore[operator]
    tags = {envelope.struct: ENVELOPE_TAG, item.struct: ITEM_TAG, trailer.struct: TRAILER_TAG}
    line = UnitKind(
        validator=TypeAdapter(line_model, config=_UNCACHED).validator,
        decode=line_decoder.decode,
        decode_lines=line_decoder.decode_lines,
        tags=tags,
        careful=frozenset(c.struct for c in compiled if c.careful),
        fast_tags={
            struct: tag for struct, tag in tags.items() if struct not in {c.struct for c in compiled if c.careful}
        },
        depth=max(c.depth for c in compiled),
        shapes=None if any(c.careful or c.shape is None for c in compiled) else {c.struct: c.shape for c in compiled},  # type: ignore[misc]
    )
    legacy = legacy_model(spec, limits)
    return UnitKinds(
        line=line,
        element=_single(element, _bounded(spec.model, limits), ITEM_TAG),
        document_envelope=UnitKind(TypeAdapter(document_model(spec, limits)).validator, tag=ENVELOPE_TAG, depth=2),
        legacy_envelope=None if legacy is None else UnitKind(TypeAdapter(legacy).validator, tag=ENVELOPE_TAG, depth=2),
        item_struct=item.struct,
        element_struct=element.struct,
        references=attrgetter(*spec.reference_fields),
        document_keys=(DOCUMENT_ITEMS_KEY, *((spec.legacy_key,) if spec.legacy_key else ())),
    )


def _single(compiled: Compiled, model: type[BaseModel], tag: str) -> UnitKind:
    return UnitKind(
        validator=TypeAdapter(model).validator,
        decode=msgspec.json.Decoder(compiled.struct).decode,
        tags={compiled.struct: tag},
        careful=frozenset({compiled.struct}) if compiled.careful else frozenset(),
        tag=tag,
        depth=compiled.depth,
    )


def _framed(model: type[BaseModel], schema_id: str) -> type[BaseModel]:
    return create_model(  # type: ignore[call-overload, no-any-return]
        model.__name__ + "Line",
        __base__=model,
        __module__=model.__module__,
        __doc__=f"{schema_id}: one item line.",
        type=(Literal["item"], ...),  # type: ignore[arg-type, maybe-unrecognized-str-typeform]
    )


def _bounded_text(name: str, limits: Mapping[str, int] | None) -> Any:
    return Annotated[Text, Field(max_length=limits[name])] if limits and name in limits else Text


def _bounded(model: type[BaseModel], limits: Mapping[str, int]) -> type[BaseModel]:
    bounds = {
        name: (
            Annotated[field.annotation, field, Field(max_length=limits[name])],
            ... if field.is_required() else field.default,
        )
        for name, field in model.model_fields.items()
        if name in limits and field.annotation is str
    }
    if not bounds:
        return model
    return create_model(model.__name__, __base__=model, __module__=model.__module__, **bounds)  # type: ignore[call-overload, no-any-return]
