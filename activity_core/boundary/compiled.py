"""A contract model compiled into a msgspec decoder: the boundary's fast path.

msgspec decodes and validates a typed object in one pass at a third of what ``json.loads``
costs on a report line; pydantic-core's ``validate_json`` on the same model costs about as
much as ``json.loads`` (``benchmarks/boundary.py``). So the pydantic models stay the single
source of truth (schemas, diagnosis, the error a quarantine names) and this module mirrors
each one as a msgspec ``Struct`` with the same constraints. A unit the struct accepts is valid;
a unit it refuses goes to pydantic, which names the reason.

What is not mirrored exactly is never guessed at: the text pattern of ``models.Text`` is
checked on the raw line by ``scan.py``, and a model with any other pattern or an unknown
constraint is marked ``careful``, so every unit of it is also validated by pydantic.
Duplicate keys, which neither library refuses, are found by counting colons: see
``strict_json.has_duplicate_keys``.

Optional fields take the model's default when absent, so a ranking reads an item as it would
read the model; ``omit_defaults`` leaves them out of an accepted item's values (and out of
the re-encoding the duplicate-key count compares with).
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from activity_core.boundary.models import TEXT_PATTERN

_NONE = type(None)
_BOUNDS: dict[type, str] = {
    annotated_types.Ge: "ge",
    annotated_types.Gt: "gt",
    annotated_types.Le: "le",
    annotated_types.Lt: "lt",
}
_LENGTHS: dict[type, str] = {annotated_types.MinLen: "min_length", annotated_types.MaxLen: "max_length"}


class UnsupportedModel(ValueError):
    """An item model uses a type or constraint the boundary cannot enforce; the message says which."""


@dataclass(frozen=True, slots=True)
class Shape:
    """Where a decoded struct keeps its keys and text, for counting them over many at once.

    Only a plain model has one: required text, required scalars, optional scalars and
    required nested plain models (``batch.py`` then counts with C-level maps and joins)."""

    keys: int
    """Keys every unit writes: its required fields (and its tag)."""
    optional: tuple[tuple[str, Any], ...]
    """Optional fields and their defaults: a unit wrote one when its value is not the default."""
    texts: tuple[str, ...]
    nested: tuple[tuple[str, Shape], ...]


@dataclass(frozen=True, slots=True)
class Compiled:
    """One contract model as a struct, with what the boundary needs to know about it."""

    struct: type[msgspec.Struct]
    careful: bool
    """Some constraint is not mirrored: pydantic validates every unit of this model too."""
    depth: int
    """How deep a valid unit nests (an object is 1)."""
    shape: Shape | None


def compile_model(
    model: type[BaseModel], *, tag: str | None = None, limits: Mapping[str, int] | None = None, name: str | None = None
) -> Compiled:
    """``model`` as a struct (tagged by ``type`` when ``tag`` is given, the model's own ``type``
    field then dropped); ``limits`` add a ``max_length`` to top-level text fields."""
    config = model.model_config
    if config.get("strict") is not True or config.get("extra") != "forbid":
        raise UnsupportedModel(
            f"{model.__name__}: a contract model must be strict and forbid extra keys (ContractModel)"
        )
    careful = False
    fields: list[tuple[str, Any, Any]] = []
    depth = 1
    plain = True
    keys = int(tag is not None)
    optional: list[tuple[str, Any]] = []
    texts: list[str] = []
    nested: list[tuple[str, Shape]] = []
    for field_name, info in model.model_fields.items():
        if tag is not None and field_name == "type":
            continue
        extra = {"max_length": limits[field_name]} if limits and field_name in limits else {}
        translated = _translate(info.annotation, list(info.metadata), f"{model.__name__}.{field_name}", extra)
        careful |= translated.careful
        depth = max(depth, 1 + translated.depth)
        required = info.is_required()
        if translated.kind == "scalar":
            keys += required
            if not required:
                plain &= info.default_factory is None
                optional.append((field_name, info.default))
        elif translated.kind == "text" and required:
            keys += 1
            texts.append(field_name)
        elif translated.kind == "model" and required and translated.shape is not None:
            keys += 1
            nested.append((field_name, translated.shape))
        else:
            plain = False
        if info.is_required():
            fields.append((field_name, translated.type, msgspec.NODEFAULT))
        elif info.default_factory is not None:
            fields.append((field_name, translated.type, msgspec.field(default_factory=info.default_factory)))  # type: ignore[arg-type]
        else:
            fields.append((field_name, translated.type, info.default))
    struct = msgspec.defstruct(
        name or model.__name__,
        fields,
        kw_only=True,
        forbid_unknown_fields=True,
        frozen=True,
        omit_defaults=True,
        gc=False,  # decoded JSON holds no reference cycles; untracked structs allocate faster
        tag_field="type" if tag is not None else None,
        tag=tag,
        module=model.__module__,
    )
    shape = Shape(keys, tuple(optional), tuple(texts), tuple(nested)) if plain else None
    return Compiled(struct, careful, depth, shape)


def strings(value: Any) -> Iterator[str]:
    """Every text value in a decoded unit, nested ones included."""
    if type(value) is str:
        yield value
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from strings(getattr(value, name))
    elif type(value) is list:
        for element in value:
            yield from strings(element)


def to_values(value: msgspec.Struct) -> dict[str, Any]:
    """A decoded unit as plain JSON values, without its framing tag."""
    values: dict[str, Any] = msgspec.to_builtins(value)
    values.pop("type", None)
    return values


@dataclass(frozen=True, slots=True)
class _Translated:
    type: Any
    careful: bool = False
    depth: int = 0
    kind: str = "other"
    """scalar (a number, a bool, an int Literal), text (a str or a str Literal), model, or other."""
    shape: Shape | None = None


def _translate(annotation: Any, metadata: list[Any], where: str, extra: dict[str, Any]) -> _Translated:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *more = get_args(annotation)
        for item in more:
            metadata += item.metadata if isinstance(item, FieldInfo) else [item]
        return _translate(inner, metadata, where, extra)
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not _NONE]
        if len(args) != 1:
            raise UnsupportedModel(f"{where}: only an optional (X | None) union is supported")
        inner = _translate(args[0], metadata, where, extra)
        return _Translated(
            inner.type | None, inner.careful, inner.depth, "scalar" if inner.kind == "scalar" else "other"
        )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        child = compile_model(annotation)
        return _Translated(child.struct, child.careful, child.depth, "model", child.shape)
    if origin is list:
        (element,) = get_args(annotation)
        inner = _translate(element, [], where, {})
        meta, careful = _constraints(metadata, where, _LENGTHS)
        return _Translated(_with(list[inner.type], meta), careful or inner.careful, 1 + inner.depth)  # type: ignore[name-defined]
    if origin is Literal:
        if not all(type(arg) in (str, int) for arg in get_args(annotation)):
            raise UnsupportedModel(f"{where}: a Literal may hold strings and integers only")
        kind = "text" if all(type(arg) is str for arg in get_args(annotation)) else "other"
        return _Translated(annotation, _constraints(metadata, where, {})[1], kind=kind)
    if annotation is str:
        meta, careful = _constraints(metadata, where, _LENGTHS, text=True)
        return _Translated(_with(str, meta | extra), careful, kind="text")
    if annotation is bool:
        return _Translated(bool, _constraints(metadata, where, {})[1], kind="scalar")
    if annotation in (int, float):
        meta, careful = _constraints(metadata, where, _BOUNDS, number=annotation)
        if annotation is int and not ({"ge", "gt"} & set(meta) and {"le", "lt"} & set(meta)):
            raise UnsupportedModel(f"{where}: give the integer a range (ge and le), so huge integers are refused")
        return _Translated(_with(annotation, meta), careful, kind="scalar")
    raise UnsupportedModel(f"{where}: type {annotation!r} is not supported by the boundary")


def _constraints(
    metadata: list[Any], where: str, known: Mapping[type, str], *, text: bool = False, number: type | None = None
) -> tuple[dict[str, Any], bool]:
    """msgspec ``Meta`` arguments for the constraints, and whether any of them is not mirrored."""
    meta: dict[str, Any] = {}
    careful = False
    finite = False
    for item in metadata:
        if type(item) in known:
            meta[known[type(item)]] = getattr(item, known[type(item)])
            continue
        pattern = getattr(item, "pattern", None)
        if text and pattern is not None and pattern != TEXT_PATTERN:  # the text pattern is scan.py's job
            mirrored = _python_pattern(pattern)
            if mirrored is None:
                careful = True
            else:
                meta["pattern"] = mirrored
        if getattr(item, "allow_inf_nan", None) is False:
            finite = True
        elif getattr(item, "strict", None) is True or type(item).__name__ == "Strict":
            pass
        elif pattern is None:
            careful = True
    if number is float and not finite:
        raise UnsupportedModel(f"{where}: a float must refuse NaN and Infinity (allow_inf_nan=False)")
    return meta, careful


# Patterns made of ASCII literals, classes of them and counted repeats, anchored at both ends,
# mean the same to pydantic-core's Rust regex and to Python's re once the final ``$`` (end of
# text in Rust, end or before a final newline in Python) is written ``\Z``.
_PLAIN_PATTERN = re.compile(r"\^(?:[A-Za-z0-9_ :/-]|\[[A-Za-z0-9_ :/-]+\]|\{[0-9]+(?:,[0-9]*)?\}|[*+?])*\$")


def _python_pattern(pattern: str) -> str | None:
    """``pattern`` for msgspec (Python's re) with exactly pydantic's meaning, or None."""
    return pattern[:-1] + r"\Z" if _PLAIN_PATTERN.fullmatch(pattern) else None


def _with(kind: Any, meta: dict[str, Any]) -> Any:
    return Annotated[kind, msgspec.Meta(**meta)] if meta else kind
