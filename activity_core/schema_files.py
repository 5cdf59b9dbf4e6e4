"""Regenerate every committed JSON Schema in ``schemas/`` from the models (``make schemas``).

The pydantic models are the source of truth (the definition models; the report framing's
envelope and trailer; each registered item model, its document and its legacy document);
tests fail when a committed file drifts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from activity_core.boundary.schemas import render_schema, report_schemas
from activity_core.definitions.loader import write_schema
from activity_core.kinds.instruction.item_models import ITEM_MODELS


def committed_report_schemas() -> dict[str, dict[str, Any]]:
    """File name in ``schemas/`` -> schema, for every report schema the project commits."""
    return report_schemas(ITEM_MODELS.values())


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "activity-definition.schema.json"]
    write_schema(written[0])
    for name, schema in committed_report_schemas().items():
        (directory / name).write_text(render_schema(schema), encoding="utf-8")
        written.append(directory / name)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(f"wrote {path}")
