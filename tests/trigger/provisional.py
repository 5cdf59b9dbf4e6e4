"""Stand-ins for the generic parts the integrator is building, so the kinds run end to end now.

- ``section_lookup``: the kind registry's lookup of a definition's kind-specific section (the
  tests' definition files carry the base fields too; only the section is read here).
- ``EvidenceActivities``: the lifecycle's progress event, posted over real HTTP to the State
  Hub emulator with an idempotency key per run.

Shared by tests/trigger and tests/probe. When the registry and the lifecycle land, these go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError
from temporalio import activity

from activity_core.clients.state_hub import ProgressEvent, StateHubClient
from activity_core.definitions import DefinitionError, DefinitionNotFound

T = TypeVar("T")
POST_PROGRESS_ACTIVITY = "provisional.post_progress"


def section_lookup(directory: Path, section: str, shape: Any) -> Callable[[str], Any]:
    """``lookup(definition_id)``: the validated ``section`` of ``<directory>/<id>.yaml``."""
    adapter = TypeAdapter(shape)

    def lookup(definition_id: str) -> Any:
        path = directory / f"{definition_id}.yaml"
        if not path.is_file():
            raise DefinitionNotFound(definition_id, directory, sorted(p.stem for p in directory.glob("*.yaml")))
        raw = yaml.safe_load(path.read_text())
        if section not in raw:
            raise DefinitionError(path, [f"{section}: required for kind {raw.get('kind')!r}"])
        try:
            return adapter.validate_python(raw[section])
        except ValidationError as exc:
            raise DefinitionError(path, [f"{section}: {e['msg']}" for e in exc.errors(include_input=False)]) from None

    return lookup


@dataclass(frozen=True)
class ProgressInput:
    event_type: str
    summary: str
    payload: dict[str, Any]
    idempotency_key: str


class EvidenceActivities:
    def __init__(self, hub: StateHubClient) -> None:
        self._hub = hub

    @activity.defn(name=POST_PROGRESS_ACTIVITY)
    async def post_progress(self, request: ProgressInput) -> str:
        return await self._hub.post_progress(
            ProgressEvent(
                event_type=request.event_type,
                summary=request.summary,
                payload=request.payload,
                idempotency_key=request.idempotency_key,
            )
        )
