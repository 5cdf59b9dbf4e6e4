"""The instruction kind's definition: a prompt over State Hub's planning state, sent to
llm-connect, whose answer passes the producer trust boundary and becomes the run's report."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from activity_core.definitions.base import CallCeilings, DefinitionBase, EvidenceSpec, Strict
from activity_core.definitions.schedule import IntervalSchedule
from activity_core.kinds.instruction.item_models import InstructionOutput
from activity_core.kinds.instruction.task_specs import TasksBlock
from activity_core.temporal.policies import TASK_EMISSION_BUDGET

# The headline definition: what `activity-core run`, `replay-output` and the smoke use unless told otherwise.
TRIAGE_DEFINITION_ID = "daily-statehub-wsjf-triage"
# Loading the plan, recording start and finish: quick steps, bounded by their own timeouts.
BOOKKEEPING_MARGIN_SECONDS = 600
PROMPT_PLACEHOLDERS = ("{date}", "{top_n}", "{context}", "{item_schema}")


class LlmSpec(Strict):
    """The llm-connect RunConfig, plus how patient a run is with it."""

    model_name: str = Field(min_length=1)
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(ge=1, le=32000)
    max_depth: int = Field(ge=0, le=10)
    model_params: dict[str, Any] = Field(default_factory=dict)
    system_prompt: str | None = None
    call_timeout_seconds: int = Field(
        default=300, ge=1, le=3600, description="One POST /execute, end to end; at most LLM_CONNECT_TIMEOUT_SECONDS."
    )
    heartbeat_timeout_seconds: int = Field(
        default=20, ge=1, le=300, description="How soon a dead worker's call is noticed and retried."
    )
    max_attempts: int = Field(default=4, ge=1, le=10)
    retry_initial_seconds: float = Field(default=2.0, gt=0, le=600)
    retry_total_seconds: int = Field(default=900, ge=1, le=6 * 3600)
    reask_on_failed_output: int = Field(default=1, ge=0, le=1)


class PromptSpec(Strict):
    template: str = Field(min_length=1, description="File name beside the definition.")


class StatusFilter(Strict):
    status: list[str] = Field(min_length=1)


class PromptLimits(Strict):
    max_workstreams: int = Field(default=40, ge=1, le=500)
    max_tasks: int = Field(default=120, ge=1, le=2000)


class ContextSpec(Strict):
    """What to read from State Hub, and how much of it the prompt may carry."""

    workstreams: StatusFilter
    tasks: StatusFilter
    prompt_limits: PromptLimits = Field(default_factory=PromptLimits)


class InstructionEvidence(EvidenceSpec):
    """The progress event, plus the working-memory note each run writes."""

    note_key_pattern: str = Field(
        min_length=1,
        description="The note's key: {date} is the run's local date, {tick} the tick's time (HHMMSS, UTC).",
    )
    note_tags: list[str] = Field(default_factory=list)

    @field_validator("note_key_pattern")
    @classmethod
    def _has_date(cls, value: str) -> str:
        if "{date}" not in value:
            raise ValueError("must contain {date} so each day's note has its own key")
        return value


class InstructionDefinition(DefinitionBase):
    kind: Literal["instruction"]
    llm: LlmSpec
    prompt: PromptSpec
    context: ContextSpec
    output: InstructionOutput
    evidence: InstructionEvidence
    tasks: TasksBlock | None = Field(
        default=None,
        description="Which accepted items become task specs for issue-core, and where they go; "
        "unset: the run proposes no tasks.",
    )

    state_hub_steps: ClassVar[int] = 3  # read the context, post progress, write the note

    @model_validator(mode="after")
    def _retries_fit_the_run(self) -> InstructionDefinition:
        """The run must outlive its worst-case retries, or a struggling run dies without its row."""
        llm_calls = 1 + self.llm.reask_on_failed_output
        steps = self.state_hub_steps
        worst = self.llm.retry_total_seconds * llm_calls + self.evidence.state_hub_retry_total_seconds * steps
        emission = int(TASK_EMISSION_BUDGET.total_seconds()) if self.tasks is not None else 0
        if worst + emission + BOOKKEEPING_MARGIN_SECONDS > self.schedule.execution_timeout_seconds:
            raise ValueError(
                f"schedule.execution_timeout_seconds ({self.schedule.execution_timeout_seconds}) must exceed the "
                f"worst-case retry budgets ({worst + emission} s: llm.retry_total_seconds x {llm_calls} + "
                f"evidence.state_hub_retry_total_seconds x {steps}"
                + (f" + {emission} s of task emission" if emission else "")
                + f") plus {BOOKKEEPING_MARGIN_SECONDS} s"
            )
        if self.llm.call_timeout_seconds > self.llm.retry_total_seconds:
            raise ValueError("llm.call_timeout_seconds exceeds llm.retry_total_seconds: not even one call fits")
        if isinstance(self.schedule, IntervalSchedule) and "{tick}" not in self.evidence.note_key_pattern:
            raise ValueError(
                "evidence.note_key_pattern needs {tick} on an interval schedule: several ticks share a day"
            )
        return self

    def companion_files(self) -> dict[str, str]:
        return {"prompt.template": self.prompt.template}

    def check_companions(self, files: dict[str, str]) -> list[str]:
        template = files[self.prompt.template]
        missing = [p for p in PROMPT_PLACEHOLDERS if p not in template]
        if missing:
            return [f"prompt.template: {self.prompt.template} lacks placeholder(s) {', '.join(missing)}"]
        return []

    def check_ceilings(self, ceilings: CallCeilings) -> list[str]:
        if self.llm.call_timeout_seconds > ceilings.llm_call_seconds:
            return [
                f"llm.call_timeout_seconds: {self.llm.call_timeout_seconds} exceeds the deployment's "
                f"LLM_CONNECT_TIMEOUT_SECONDS ({ceilings.llm_call_seconds:g}); ask for less or raise the setting"
            ]
        return []
