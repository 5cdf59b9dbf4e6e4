"""The committed JSON Schemas of the report contract, generated from ``models.py``.

The files in ``schemas/`` are for people and for other tools; the parser never reads them.
A test compares each committed file with ``report_schemas()``; after changing a model,
regenerate them with ``make schemas`` (or the one-liner the failing test prints).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from activity_core.boundary.models import Envelope, LegacyReport, ReportItem, Trailer

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://activity-core.custodian/schemas/"

# file name in schemas/ -> (model, versioned id)
REPORT_SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "report-envelope.schema.json": (Envelope, "report-envelope.v1"),
    "report-item.schema.json": (ReportItem, "report-item.v1"),
    "report-trailer.schema.json": (Trailer, "report-trailer.v1"),
    "legacy-report.schema.json": (LegacyReport, "legacy-report.v1"),
}


class _Untitled(GenerateJsonSchema):
    """Pydantic titles every field after its name; that is noise in a schema the model reads."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def report_schema(model: type[BaseModel], version_id: str) -> dict[str, Any]:
    body = model.model_json_schema(schema_generator=_Untitled)
    return {"$schema": SCHEMA_DIALECT, "$id": ID_BASE + version_id, **body}


def report_schemas() -> dict[str, dict[str, Any]]:
    return {name: report_schema(model, version) for name, (model, version) in REPORT_SCHEMAS.items()}


def render_schema(schema: dict[str, Any]) -> str:
    """The exact text of a committed schema file."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def item_schema_for_prompt() -> str:
    """report-item.v1 as compact JSON for the prompt's ``{item_schema}``: the model sees the
    same constraints the boundary enforces."""
    schema = ReportItem.model_json_schema(schema_generator=_Untitled)
    return json.dumps(schema, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
