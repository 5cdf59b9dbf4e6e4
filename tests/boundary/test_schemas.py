"""The committed JSON Schemas and the pydantic models cannot drift apart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from activity_core.boundary import item_schema_for_prompt
from activity_core.boundary.models import Envelope, ReportItem
from activity_core.boundary.schemas import REPORT_SCHEMAS, render_schema, report_schemas
from activity_core.settings import PROJECT_ROOT
from tests.boundary.reports import envelope, item

SCHEMAS = PROJECT_ROOT / "schemas"
REGENERATE = "make schemas"


def _committed(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(REPORT_SCHEMAS))
def test_committed_schema_is_generated_from_the_model(name: str) -> None:
    generated = report_schemas()[name]
    assert (SCHEMAS / name).read_text(encoding="utf-8") == render_schema(generated), f"regenerate: {REGENERATE}"
    Draft202012Validator.check_schema(generated)


@pytest.mark.parametrize("name", sorted(REPORT_SCHEMAS))
def test_schema_ids_are_versioned(name: str) -> None:
    assert _committed(name)["$id"].endswith(".v1")


def test_the_prompt_gets_the_item_schema() -> None:
    committed = {k: v for k, v in _committed("report-item.schema.json").items() if k not in ("$id", "$schema")}
    assert item_schema_for_prompt() == json.dumps(committed, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


# -- jsonschema and the models agree ---------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=25),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    # jsonschema counts 3.0 as an integer, the strict model does not: a documented difference
    st.floats(allow_nan=False, allow_infinity=False, min_value=-100, max_value=100).filter(lambda f: not f.is_integer()),
    st.text(max_size=6),
    st.sampled_from(["", "ok", "bell\u0007", "rtl\u202e", "tab\tnewline\n", "para\u2029", "2026-06-26", "26.06.2026"]),
    st.sampled_from(["item", "summary", "end"]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2), max_leaves=4)


@st.composite
def _mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A valid object with a few random edits, nested wsjf included: near the boundary of
    validity, where disagreements would hide."""
    value = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        target = value["wsjf"] if "wsjf" in value and isinstance(value["wsjf"], dict) and draw(st.booleans()) else value
        key = draw(st.sampled_from([*target, "extra"]))
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(_VALUES)
    return value


def _agree(model: type[BaseModel], schema_name: str, value: dict[str, Any]) -> None:
    by_schema = Draft202012Validator(_committed(schema_name)).is_valid(value)
    try:
        model.model_validate_json(json.dumps(value))
        by_model = True
    except ValidationError:
        by_model = False
    assert by_schema == by_model, value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated(item(1)))
def test_jsonschema_and_the_model_agree_on_items(value: dict[str, Any]) -> None:
    _agree(ReportItem, "report-item.schema.json", value)


@settings(max_examples=150, deadline=None)
@given(_mutated(envelope()))
def test_jsonschema_and_the_model_agree_on_envelopes(value: dict[str, Any]) -> None:
    _agree(Envelope, "report-envelope.schema.json", value)


def test_the_one_documented_difference() -> None:
    integral_float = item(1) | {"rank": 1.0}
    assert Draft202012Validator(_committed("report-item.schema.json")).is_valid(integral_float)
    with pytest.raises(ValidationError):
        ReportItem.model_validate_json(json.dumps(integral_float))
