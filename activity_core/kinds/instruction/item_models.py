"""The item models and rankings an instruction definition may name, registered by name.

A definition's ``output:`` names its item model (``item_schema``) and its ranking; a second
instruction definition with another item model registers it here and needs no new kind.
Unknown names are refused when the definition is loaded (``InstructionOutput``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from activity_core.boundary import ItemSpec, OutputContract, Ranking, ReportSpec
from activity_core.boundary.schemas import output_model_params, schema_for_prompt
from activity_core.boundary.validators import string_limits
from activity_core.kinds.instruction.wsjf import REPORT_ITEM, WSJF

ITEM_MODELS: dict[str, ItemSpec] = {spec.schema_id: spec for spec in (REPORT_ITEM,)}
RANKINGS: dict[str, Ranking] = {ranking.name: ranking for ranking in (WSJF,)}


def report_spec(contract: OutputContract) -> ReportSpec:
    """The item model and ranking ``contract`` names; ValueError (naming what is known) otherwise."""
    items = ITEM_MODELS.get(contract.item_schema)
    if items is None:
        raise ValueError(
            f"item_schema: unknown item model {contract.item_schema!r}; known: {', '.join(sorted(ITEM_MODELS))}"
        )
    ranking = None
    if contract.ranking is not None:
        ranking = RANKINGS.get(contract.ranking)
        if ranking is None:
            raise ValueError(f"ranking: unknown ranking {contract.ranking!r}; known: {', '.join(sorted(RANKINGS))}")
    unknown = set(contract.limits.max_string_lengths) - set(string_limits(items, {})) - items.text_fields()
    if unknown:
        raise ValueError(
            f"limits.max_string_lengths: {', '.join(sorted(unknown))} is not a text field of {contract.item_schema} "
            f"or the envelope (known: {', '.join(sorted(items.text_fields() | {'summary'}))})"
        )
    return ReportSpec(items, ranking)


def _registered(contract: OutputContract) -> OutputContract:
    report_spec(contract)
    return contract


InstructionOutput = Annotated[OutputContract, AfterValidator(_registered)]
"""An output contract whose item model and ranking are registered here (checked at load)."""


def prompt_schema(contract: OutputContract) -> str:
    """The prompt's ``{item_schema}`` for ``contract``."""
    return schema_for_prompt(report_spec(contract).items, contract.framing)


def run_config_model_params(contract: OutputContract, base: dict[str, Any]) -> dict[str, Any]:
    """The RunConfig's ``model_params``: the definition's ``base`` plus what the output contract
    asks of llm-connect (``json_schema`` for the document framing, a ``response_format`` hint
    for ndjson). The ``call_llm`` activity uses this and knows nothing of framings."""
    return output_model_params(contract, report_spec(contract).items, base)
