"""Both output framings, end to end over the llm-connect emulator: the RunConfig a definition's
output contract makes, the answer the emulator gives for it, and the boundary reading it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from activity_core.boundary import BoundaryResult, OutputContract, parse_report
from activity_core.clients import LlmConnectClient
from activity_core.clients.llm_connect import LlmConnectConfigurationError
from activity_core.devstack.llm_connect_emulator import LlmConnectEmulator
from activity_core.kinds.instruction.item_models import prompt_schema, run_config_model_params
from tests.boundary.reports import SPEC, contract
from tests.clients.support import SOURCE, planning_ids, render_prompt, run_config

DEFINITION_PARAMS = {"reasoning_effort": "medium"}


@pytest.fixture
async def llm(llm_connect: LlmConnectEmulator) -> AsyncIterator[LlmConnectClient]:
    async with LlmConnectClient(llm_connect.url, timeout_seconds=5) as client:
        yield client


async def _ask(llm: LlmConnectClient, output: OutputContract) -> tuple[BoundaryResult, str]:
    prompt = render_prompt()
    config = run_config(prompt, model_params=run_config_model_params(output, DEFINITION_PARAMS))
    response = await llm.execute(config, request_id="framings/1", source=SOURCE)
    result = parse_report(
        response.content,
        contract=output,
        spec=SPEC,
        known_refs=planning_ids(prompt),
        finish_reason=response.finish_reason,
    )
    return result, response.content


@pytest.mark.parametrize("framing", ["ndjson", "document"])
async def test_each_framing_asks_its_way_and_reads_clean(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator, framing: str
) -> None:
    result, content = await _ask(llm, contract(framing=framing))

    assert (result.status, result.framing, result.truncated, len(result.items)) == ("clean", framing, False, 7)
    counts = result.counts
    assert (
        result.summary is not None and counts.lines == counts.envelope_lines + counts.item_lines + counts.trailer_lines
    )
    [sent] = llm_connect.requests("execute")
    params = sent.json()["model_params"]
    if framing == "document":
        assert set(params) == {"reasoning_effort", "json_schema"} and params["json_schema"]["$id"].endswith(
            "report-document.v1"
        )
        assert content.lstrip().startswith("{") and len(content.splitlines()) > 9  # one pretty-printed document
    else:
        assert params == {"reasoning_effort": "medium", "response_format": "ndjson"}


async def test_a_provider_treating_the_schema_as_advisory_costs_one_element(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    llm_connect.queue_faults("execute", "malformed_item")
    result, _ = await _ask(llm, contract(framing="document"))

    assert (result.status, result.framing, len(result.items)) == ("partial", "document", 6)
    [broken] = result.quarantined
    assert broken.reason.value == "repair_failed" and broken.index == 3  # the middle element: rank 4


async def test_a_document_cut_at_the_token_limit_keeps_the_whole_elements(
    llm: LlmConnectClient, llm_connect: LlmConnectEmulator
) -> None:
    llm_connect.queue_faults("execute", "truncated")
    result, _ = await _ask(llm, contract(framing="document"))

    assert (result.status, result.truncated, len(result.items)) == ("partial", True, 6)
    assert [q.reason.value for q in result.quarantined] == ["truncated_item"]


async def test_a_document_contract_still_reads_an_ndjson_answer(llm: LlmConnectClient) -> None:
    prompt = render_prompt()
    response = await llm.execute(run_config(prompt), request_id="framings/2", source=SOURCE)  # NDJSON, as asked
    result = parse_report(
        response.content, contract=contract(framing="document"), spec=SPEC, known_refs=planning_ids(prompt)
    )
    assert (result.status, result.framing) == ("clean", "ndjson")


@pytest.mark.parametrize(
    ("schema", "problem"),
    [({"type": "objekt"}, "is not valid under any of the given schemas"), (["not", "a", "schema"], "is an object")],
)
async def test_the_emulator_refuses_a_json_schema_that_is_not_one(
    llm: LlmConnectClient, schema: object, problem: str
) -> None:
    config = run_config(render_prompt(), model_params={"json_schema": schema})
    with pytest.raises(LlmConnectConfigurationError) as refused:
        await llm.execute(config, request_id="framings/3", source=SOURCE)
    assert refused.value.status_code == 422 and "model_params.json_schema is not a valid JSON Schema" in str(
        refused.value
    )
    assert problem in str(refused.value)


def test_the_prompt_schema_follows_the_framing() -> None:
    assert '"type":{"const":"item"' in prompt_schema(contract())
    assert '"items":{' in prompt_schema(contract(framing="document"))
