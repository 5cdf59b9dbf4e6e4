"""Strict JSON: what a lenient parser lets through but our consumers must never see.

pydantic-core's parser already refuses most of it (lone surrogates, raw control characters,
numbers beyond range, runaway nesting) and the models refuse NaN and Infinity, so this
module mostly names those refusals. The one thing every mainstream parser accepts silently
is a duplicated key (the last one wins), which lets a producer smuggle a second value past
a reviewer who reads the first; ``has_duplicate_keys`` catches it in the happy path with one
``str.count``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any, Literal, NamedTuple, get_args, get_origin

from pydantic import BaseModel

from activity_core.boundary.reasons import QuarantineReason

_INT64 = 2**63
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# pydantic-core's wording for JSON it refuses -> the reason it amounts to
_JSON_REFUSALS = (
    ("recursion limit", QuarantineReason.TOO_DEEP),
    ("number out of range", QuarantineReason.INTEGER_TOO_LARGE),
    ("surrogate", QuarantineReason.LONE_SURROGATE),
    ("control character", QuarantineReason.CONTROL_CHARACTERS),
)


class _DuplicateKey(Exception):
    pass


def json_refusal(message: str, text: str) -> QuarantineReason | None:
    """The strict-JSON reason behind a parse error, or None for a plain syntax error."""
    for marker, reason in _JSON_REFUSALS:
        if marker in message:
            return reason
    if "hex escape" in message and _SURROGATE_ESCAPE.search(text):
        return QuarantineReason.LONE_SURROGATE
    return None


def oversized_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT64


class _Layout(NamedTuple):
    texts: Callable[[dict[str, Any]], tuple[str | None, ...]]
    """The values of the fields that hold text, from a model's ``__dict__``."""
    has_text: bool
    leaves: tuple[str, ...]
    """Fields that hold one model with no models inside: its keys are its fields set."""
    nested: tuple[str, ...]
    """Fields that hold any other model, or a list of models."""
    nested_text: tuple[str, ...]
    """The fields holding models that hold text somewhere."""


_LAYOUTS: dict[type[BaseModel], _Layout] = {}


def _layout(cls: type[BaseModel]) -> _Layout:
    """How a contract model is shaped, worked out once per class."""
    text, leaves, nested, nested_text = [], [], [], []
    for name, info in cls.model_fields.items():
        annotation = info.annotation
        origin, args = get_origin(annotation), get_args(annotation)
        child = args[0] if origin is list else annotation
        if isinstance(child, type) and issubclass(child, BaseModel):
            inner = _layout(child)
            (leaves if origin is not list and not (inner.leaves or inner.nested) else nested).append(name)
            if inner.has_text or inner.nested_text:
                nested_text.append(name)
        elif annotation is str or origin is Literal or str in args:
            text.append(name)
    texts = itemgetter(*text) if len(text) > 1 else (lambda values: tuple(values[name] for name in text))
    layout = _LAYOUTS[cls] = _Layout(texts, bool(text), tuple(leaves), tuple(nested), tuple(nested_text))
    return layout


def _key_count(model: BaseModel) -> int:
    layout = _LAYOUTS.get(type(model)) or _layout(type(model))
    values = model.__dict__
    count = len(model.__pydantic_fields_set__)
    for name in layout.leaves:
        count += len(values[name].__pydantic_fields_set__)
    for name in layout.nested:
        value = values[name]
        for child in value if type(value) is list else (value,):
            count += _key_count(child)
    return count


def _text_colons(model: BaseModel) -> int:
    layout = _LAYOUTS.get(type(model)) or _layout(type(model))
    count = "".join(filter(None, layout.texts(model.__dict__))).count(":")
    for name in layout.nested_text:
        value = model.__dict__[name]
        for child in value if type(value) is list else (value,):
            count += _text_colons(child)
    return count


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def has_duplicate_keys(text: str, model: BaseModel) -> bool:
    """Whether ``text``, which validated as ``model``, repeats a key (the model kept one).

    Outside strings a colon only ever follows a key, and the contract's keys contain none, so
    ``text.count(":")`` is the keys written plus the colons inside strings. If that equals the
    keys the model kept plus the colons in the text it kept, no key was written twice. Anything
    else (a duplicate, or a colon written as ``\\u003a``) goes to a full parse that sees every
    pair.
    """
    colons, keys = text.count(":"), _key_count(model)
    if colons == keys or colons == keys + _text_colons(model):
        return False
    try:
        json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKey:
        return True
    except ValueError:  # pydantic-core accepted it; a pickier parser is no evidence of a duplicate
        return False
    return False
