"""The committed JSON Schemas, the pydantic models and the boundary's compiled decoders agree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from activity_core.boundary import BoundaryLimits, output_model_params, schema_for_prompt
from activity_core.boundary.schemas import ID_BASE, schema_file
from activity_core.boundary.units import judge
from activity_core.boundary.validators import unit_kinds
from activity_core.schema_files import committed_report_schemas
from activity_core.settings import PROJECT_ROOT
from tests.boundary.reports import SPEC, contract, envelope, item

SCHEMAS = PROJECT_ROOT / "schemas"
REGENERATE = "make schemas"
ITEMS = SPEC.items
KINDS = unit_kinds(ITEMS, {})
LIMITS = BoundaryLimits()


def _committed(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(committed_report_schemas()))
def test_committed_schema_is_generated_from_the_models(name: str) -> None:
    generated = committed_report_schemas()[name]
    assert (SCHEMAS / name).read_text(encoding="utf-8").strip() == json.dumps(
        generated, indent=2, sort_keys=True, ensure_ascii=False
    ), f"regenerate: {REGENERATE}"
    Draft202012Validator.check_schema(generated)


@pytest.mark.parametrize("name", sorted(committed_report_schemas()))
def test_schema_ids_are_versioned_and_name_their_file(name: str) -> None:
    schema_id = _committed(name)["$id"]
    assert schema_id.startswith(ID_BASE) and schema_id.endswith(".v1")
    assert schema_file(schema_id.removeprefix(ID_BASE)) == name


def test_the_prompt_gets_the_item_schema_of_its_framing() -> None:
    def bare(name: str) -> str:
        body = {k: v for k, v in _committed(name).items() if k not in ("$id", "$schema")}
        return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)

    assert schema_for_prompt(ITEMS) == bare("report-item.schema.json")
    assert schema_for_prompt(ITEMS, "document") == bare("report-document.schema.json")


def test_the_document_framing_sends_the_committed_document_schema_and_no_hint() -> None:
    base = {"reasoning_effort": "medium", "response_format": "ndjson", "json_schema": {"stale": True}}
    document = output_model_params(contract(framing="document"), ITEMS, base)
    assert document == {"reasoning_effort": "medium", "json_schema": _committed("report-document.schema.json")}
    assert output_model_params(contract(), ITEMS, base) == {"reasoning_effort": "medium", "response_format": "ndjson"}


def test_the_document_schema_describes_the_envelope_and_the_items() -> None:
    schema = _committed("report-document.schema.json")
    assert schema["required"] == ["date", "summary", "items"] and schema["additionalProperties"] is False
    document = {"date": "2026-06-26", "summary": "s", "items": [{k: v for k, v in item(1).items() if k != "type"}]}
    assert Draft202012Validator(schema).is_valid(document)
    assert not Draft202012Validator(schema).is_valid(document | {"items": [item(1)]})  # an element has no type


# -- jsonschema and the boundary agree ---------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=25),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    # jsonschema counts 3.0 as an integer, the strict model does not: a documented difference
    st.floats(allow_nan=False, allow_infinity=False, min_value=-100, max_value=100).filter(
        lambda f: not f.is_integer()
    ),
    st.text(max_size=6),
    st.sampled_from(
        [
            "",
            "ok",
            "bell\u0007",
            "rtl\u202e",
            "tab\tnewline\n",
            "para\u2029",
            "del\x7f",
            "c1\x85",
            "2026-06-26",
            "2026-06-26\n",
            "26.06.2026",
        ]
    ),
    st.sampled_from(["item", "summary", "end"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)


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


def _agree(schema_name: str, value: dict[str, Any], ensure_ascii: bool) -> None:
    """The committed schema and the boundary (fast decoder, pre-scan and pydantic) judge alike."""
    by_schema = Draft202012Validator(_committed(schema_name)).is_valid(value)
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    by_boundary = judge(text, KINDS.line, LIMITS, repairable=False).value is not None
    assert by_schema == by_boundary, text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated(item(1, wsjf=item(1)["wsjf"] | {"score": 5.5})), st.booleans())
def test_jsonschema_and_the_boundary_agree_on_items(value: dict[str, Any], ensure_ascii: bool) -> None:
    _agree("report-item.schema.json", value, ensure_ascii)


@settings(max_examples=200, deadline=None)
@given(_mutated(envelope()), st.booleans())
def test_jsonschema_and_the_boundary_agree_on_envelopes(value: dict[str, Any], ensure_ascii: bool) -> None:
    _agree("report-envelope.schema.json", value, ensure_ascii)


def test_the_one_documented_difference() -> None:
    integral_float = item(1) | {"rank": 1.0}
    assert Draft202012Validator(_committed("report-item.schema.json")).is_valid(integral_float)
    assert judge(json.dumps(integral_float), KINDS.line, LIMITS).value is None
