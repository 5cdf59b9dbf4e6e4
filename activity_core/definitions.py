"""Activity definitions: the YAML files in ``definitions/`` that declare everything a run needs.

The pydantic models below are the source of truth; ``schemas/activity-definition.schema.json``
is generated from them (``make schemas``) and a test keeps the two from drifting. A broken
definition is refused at load time with the file, the field and what is wrong, because the
worker must never start with (or a schedule fire into) a definition it cannot run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from activity_core.kinds.instruction.item_models import InstructionOutput

DEFINITION_SUFFIX = ".yaml"
SCHEMA_ID = "https://activity-core.custodian/schemas/activity-definition.schema.json"
# Loading the plan, recording start and finish: quick steps, bounded by their own timeouts.
_BOOKKEEPING_MARGIN_SECONDS = 600


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleSpec(_Strict):
    """A daily wall-clock time in a named time zone; Temporal resolves the DST changes."""

    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)
    time_zone: str = "Europe/Berlin"
    overlap: Literal["skip", "buffer_one", "allow_all"] = "skip"
    catchup_window_seconds: int = Field(default=4 * 3600, ge=60, le=24 * 3600)
    execution_timeout_seconds: int = Field(default=7200, ge=60, le=23 * 3600)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class LlmSpec(_Strict):
    """The llm-connect RunConfig, plus how patient a run is with it."""

    model_name: str = Field(min_length=1)
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=1, le=32000)
    max_depth: int = Field(ge=0, le=10)
    model_params: dict[str, Any] = Field(default_factory=dict)
    system_prompt: str | None = None
    call_timeout_seconds: int = Field(default=300, ge=1, le=3600)
    heartbeat_timeout_seconds: int = Field(
        default=20, ge=1, le=300, description="How soon a dead worker's call is noticed and retried."
    )
    max_attempts: int = Field(default=4, ge=1, le=10)
    retry_initial_seconds: float = Field(default=2.0, gt=0, le=600)
    retry_total_seconds: int = Field(default=900, ge=1, le=6 * 3600)
    reask_on_failed_output: int = Field(default=1, ge=0, le=1)


class PromptSpec(_Strict):
    template: str = Field(min_length=1, description="File name beside the definition.")


class StatusFilter(_Strict):
    status: list[str] = Field(min_length=1)


class PromptLimits(_Strict):
    max_workstreams: int = Field(default=40, ge=1, le=500)
    max_tasks: int = Field(default=120, ge=1, le=2000)


class ContextSpec(_Strict):
    """What to read from State Hub, and how much of it the prompt may carry."""

    workstreams: StatusFilter
    tasks: StatusFilter
    prompt_limits: PromptLimits = Field(default_factory=PromptLimits)


class EvidenceSpec(_Strict):
    progress_event_type: str = Field(min_length=1)
    note_key_pattern: str = Field(min_length=1)
    note_tags: list[str] = Field(default_factory=list)
    state_hub_retry_total_seconds: int = Field(
        default=900,
        ge=1,
        le=6 * 3600,
        description="How long each State Hub step of a run (reading the context, posting progress, "
        "writing the note) retries a refusing State Hub.",
    )

    @field_validator("note_key_pattern")
    @classmethod
    def _has_date(cls, value: str) -> str:
        if "{date}" not in value:
            raise ValueError("must contain {date} so each day's note has its own key")
        return value

    def note_key(self, local_date: str) -> str:
        return self.note_key_pattern.replace("{date}", local_date)


class ActivityDefinition(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,62}$")
    kind: Literal["instruction"]
    title: str = Field(min_length=1)
    description: str = ""
    enabled: bool = True
    schedule: ScheduleSpec
    llm: LlmSpec
    prompt: PromptSpec
    context: ContextSpec
    output: InstructionOutput
    evidence: EvidenceSpec

    @model_validator(mode="after")
    def _retries_fit_the_run(self) -> ActivityDefinition:
        """The run must outlive its worst-case retries, or a struggling run dies without its row."""
        llm_calls = 1 + self.llm.reask_on_failed_output
        state_hub_steps = 3  # read the context, post progress, write the note
        worst = self.llm.retry_total_seconds * llm_calls + self.evidence.state_hub_retry_total_seconds * state_hub_steps
        if worst + _BOOKKEEPING_MARGIN_SECONDS > self.schedule.execution_timeout_seconds:
            raise ValueError(
                f"schedule.execution_timeout_seconds ({self.schedule.execution_timeout_seconds}) must exceed the "
                f"worst-case retry budgets ({worst} s: llm.retry_total_seconds x {llm_calls} + "
                f"evidence.state_hub_retry_total_seconds x {state_hub_steps}) plus {_BOOKKEEPING_MARGIN_SECONDS} s"
            )
        if self.llm.call_timeout_seconds > self.llm.retry_total_seconds:
            raise ValueError("llm.call_timeout_seconds exceeds llm.retry_total_seconds: not even one call fits")
        return self


class LoadedDefinition(BaseModel):
    """A validated definition with its prompt template read in, ready to run."""

    model_config = ConfigDict(frozen=True)

    definition: ActivityDefinition
    path: Path
    prompt_template: str


class DefinitionError(Exception):
    """A definition file that cannot be used; the message names the file, field and problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        joined = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: invalid activity definition\n{joined}")


class DefinitionNotFound(LookupError):
    def __init__(self, definition_id: str, directory: Path, known: list[str]) -> None:
        self.definition_id = definition_id
        known_text = ", ".join(known) or "none"
        super().__init__(
            f"no definition {definition_id!r} in {directory} (known: {known_text}); "
            f"set ACTIVITY_CORE_DEFINITIONS_DIR if your definitions live elsewhere"
        )


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of a definition file, as committed in ``schemas/``."""
    schema = ActivityDefinition.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_definition_file(path: Path) -> LoadedDefinition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(path, [f"cannot read file: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(path, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise DefinitionError(path, ["top level must be a mapping of fields"])
    try:
        definition = ActivityDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_field_path(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise DefinitionError(path, problems) from None
    if definition.id != path.stem:
        raise DefinitionError(path, [f"id: {definition.id!r} must match the file name {path.stem!r}"])
    template_path = path.parent / definition.prompt.template
    try:
        template = template_path.read_text(encoding="utf-8")
    except OSError:
        raise DefinitionError(path, [f"prompt.template: {template_path.name} not found beside the definition"]) from None
    missing = [p for p in ("{date}", "{top_n}", "{context}", "{item_schema}") if p not in template]
    if missing:
        raise DefinitionError(path, [f"prompt.template: {template_path.name} lacks placeholder(s) {', '.join(missing)}"])
    return LoadedDefinition(definition=definition, path=path, prompt_template=template)


def definition_paths(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob(f"*{DEFINITION_SUFFIX}") if p.is_file())


def load_all(directory: Path) -> dict[str, LoadedDefinition]:
    """Load every definition; raise on the first broken one (the worker refuses to start)."""
    return {loaded.definition.id: loaded for loaded in map(load_definition_file, definition_paths(directory))}


def load_definition(definition_id: str, directory: Path) -> LoadedDefinition:
    path = directory / f"{definition_id}{DEFINITION_SUFFIX}"
    if not path.is_file():
        raise DefinitionNotFound(definition_id, directory, [p.stem for p in definition_paths(directory)])
    return load_definition_file(path)


class DefinitionCache:
    """Definitions parsed once and re-read only when the file or its template changes.

    Every activity of a run looks its definition up; without this each would re-read and
    re-validate the YAML. An edited definition is still picked up by the next lookup.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded: dict[str, tuple[tuple[int, int], LoadedDefinition]] = {}

    def get(self, definition_id: str) -> LoadedDefinition:
        cached = self._loaded.get(definition_id)
        if cached is not None and cached[0] == _stamp(cached[1]):
            return cached[1]
        loaded = load_definition(definition_id, self.directory)
        self._loaded[definition_id] = (_stamp(loaded), loaded)
        return loaded


def _stamp(loaded: LoadedDefinition) -> tuple[int, int]:
    template = loaded.path.parent / loaded.definition.prompt.template
    try:
        return (loaded.path.stat().st_mtime_ns, template.stat().st_mtime_ns)
    except OSError:
        return (-1, -1)  # gone: load again, which names the problem


def write_schema(path: Path) -> None:
    path.write_text(json.dumps(definition_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
