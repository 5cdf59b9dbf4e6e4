"""The committed JSON Schemas of the report contract, generated from the models.

The files in ``schemas/`` are for people and for other tools (and, for the document framing,
for llm-connect's structured-output mode); the parser never reads them. A test compares each
committed file with ``report_schemas()``; after changing a model, regenerate them with
``make schemas`` (or the one-liner the failing test prints).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from activity_core.boundary.contract import OutputContract
from activity_core.boundary.models import Envelope, Trailer
from activity_core.boundary.spec import ItemSpec
from activity_core.boundary.validators import document_model, framed_item_model, legacy_model

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://activity-core.custodian/schemas/"
# model_params keys that carry the output contract: the contract alone sets them.
OUTPUT_MODEL_PARAMS = frozenset({"response_format", "json_schema"})


class _Untitled(GenerateJsonSchema):
    """Pydantic titles every field after its name; that is noise in a schema the model reads."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_file(version_id: str) -> str:
    """``report-item.v1`` -> ``report-item.schema.json``."""
    return version_id.rsplit(".v", 1)[0] + ".schema.json"


def report_schema(model: type[BaseModel], version_id: str) -> dict[str, Any]:
    body = model.model_json_schema(schema_generator=_Untitled)
    return {"$schema": SCHEMA_DIALECT, "$id": ID_BASE + version_id, **body}


def item_spec_schemas(spec: ItemSpec) -> dict[str, dict[str, Any]]:
    """File name -> schema, for one item model: its line, its document and its legacy document."""
    schemas = {
        schema_file(spec.schema_id): report_schema(framed_item_model(spec), spec.schema_id),
        schema_file(spec.document_schema_id): report_schema(document_model(spec), spec.document_schema_id),
    }
    legacy = legacy_model(spec)
    if legacy is not None and spec.legacy_schema_id is not None:
        schemas[schema_file(spec.legacy_schema_id)] = report_schema(legacy, spec.legacy_schema_id)
    return schemas


def report_schemas(specs: Iterable[ItemSpec]) -> dict[str, dict[str, Any]]:
    """Every committed report schema: the framing's own, and each item model's."""
    schemas = {
        "report-envelope.schema.json": report_schema(Envelope, "report-envelope.v1"),
        "report-trailer.schema.json": report_schema(Trailer, "report-trailer.v1"),
    }
    for spec in specs:
        schemas |= item_spec_schemas(spec)
    return schemas


def render_schema(schema: dict[str, Any]) -> str:
    """The exact text of a committed schema file."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_for_prompt(spec: ItemSpec, framing: str = "ndjson") -> str:
    """What the prompt's ``{item_schema}`` shows, as compact JSON: one item line's schema (the
    document's, for the document framing), so the model reads the constraints the boundary enforces."""
    model = document_model(spec) if framing == "document" else framed_item_model(spec)
    schema = model.model_json_schema(schema_generator=_Untitled)
    return json.dumps(schema, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def output_model_params(contract: OutputContract, spec: ItemSpec, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The llm-connect RunConfig's ``model_params`` for this output contract: ``base`` (the
    definition's own, e.g. ``reasoning_effort``) without any output keys, plus the contract's.

    ndjson: ``response_format: "ndjson"``, a hint providers may ignore (no whole-document schema
    can describe an item-framed stream; the item schema goes into the prompt). document:
    ``json_schema``, the committed whole-report document schema, which llm-connect translates
    into each provider's structured-output mode (constrained decoding, for some).
    """
    params = {key: value for key, value in (base or {}).items() if key not in OUTPUT_MODEL_PARAMS}
    if contract.framing == "document":
        params["json_schema"] = report_schema(document_model(spec), spec.document_schema_id)
    else:
        params["response_format"] = "ndjson"
    return params
