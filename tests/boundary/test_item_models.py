"""The boundary is generic over the item model: what a kind registers, and what it may not."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pytest
import yaml
from pydantic import Field

from activity_core.boundary import ContractModel, ItemSpec, Ranking, ReportSpec, Text, parse_report
from activity_core.boundary.compiled import UnsupportedModel, compile_model
from activity_core.definitions.loader import DefinitionError, load_definition_file
from activity_core.kinds.instruction.wsjf import Recommendation
from activity_core.settings import PROJECT_ROOT
from tests.boundary.reports import contract, envelope, line, trailer

DEFINITION = "daily-statehub-wsjf-triage"


def test_no_file_of_the_boundary_names_the_triage() -> None:
    boundary = PROJECT_ROOT / "activity_core" / "boundary"
    named = [p.name for p in boundary.glob("*.py") if re.search(r"wsjf|triage", p.read_text(), re.IGNORECASE)]
    assert named == []


def _load_with(tmp_path: Path, **output: object) -> None:
    shutil.copytree(PROJECT_ROOT / "definitions", tmp_path, dirs_exist_ok=True)
    path = tmp_path / f"{DEFINITION}.yaml"
    document = yaml.safe_load(path.read_text())
    document["output"] |= output
    path.write_text(yaml.safe_dump(document))
    load_definition_file(path)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"item_schema": "report-item.v9"}, "unknown item model 'report-item.v9'; known: report-item.v1"),
        ({"ranking": "rice"}, "unknown ranking 'rice'; known: wsjf"),
        (
            {"limits": {"max_string_lengths": {"titel": 10}}},
            "titel is not a text field of report-item.v1 or the envelope",
        ),
    ],
)
def test_unknown_names_are_refused_when_the_definition_is_loaded(tmp_path: Path, output: dict, message: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        _load_with(tmp_path, **output)
    assert message in str(refused.value) and "output" in str(refused.value)


def test_the_committed_definition_names_its_item_model_and_ranking(tmp_path: Path) -> None:
    _load_with(tmp_path)  # unchanged: valid
    output = yaml.safe_load((PROJECT_ROOT / "definitions" / f"{DEFINITION}.yaml").read_text())["output"]
    assert (output["item_schema"], output["ranking"]) == ("report-item.v1", "wsjf")


# -- a second item model needs no new kind -----------------------------------------------------


class Finding(ContractModel):
    """A made-up second item model: a finding about one host, ranked by severity."""

    host: Text
    check: Text
    severity: int = Field(ge=1, le=5)
    note: Text | None = None


def _by_severity(item: Finding) -> tuple[float, bool]:
    return -item.severity, False


SEVERITY = Ranking(
    name="severity", assess=_by_severity, computed=lambda item: {}, computed_fields=(), applies_to=Finding
)
FINDINGS = ItemSpec(
    schema_id="finding.v1",
    model=Finding,
    reference_fields=("host", "check"),
    document_schema_id="finding-document.v1",
    string_limits={"check": 8},
)


def test_another_item_model_reads_through_the_same_boundary() -> None:
    def finding(host: str, check: str, severity: int, **more: object) -> str:
        return line({"type": "item", "host": host, "check": check, "severity": severity, **more})

    content = "\n".join(
        [
            line(envelope(4)),
            finding("db-1", "disk", 2),
            finding("db-1", "tls", 5, note="expires in 3 days"),
            finding("db-1", "disk", 4),  # the same references again
            finding("web-9", "tls", 3),  # an unknown host
            finding("db-2", "x" * 9, 1),
            line(trailer(4)),
        ]
    )
    result = parse_report(
        content,
        contract=contract(item_schema="finding.v1", ranking="severity"),
        spec=ReportSpec(FINDINGS, SEVERITY),
        known_refs={"db-1", "db-2", "disk", "tls"},
    )
    assert [(i["host"], i["check"], i["severity"]) for i in result.items] == [("db-1", "tls", 5), ("db-1", "disk", 2)]
    assert [q.reason.value for q in result.quarantined] == [
        "duplicate_candidate",
        "unknown_reference",
        "string_too_long",
    ]
    assert "host, check 'db-1', 'disk' were already named" in result.quarantined[0].detail


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (lambda: ItemSpec("x.v1", Finding, ("severity",), "xd.v1"), "'severity' is not a text field"),
        (lambda: ItemSpec("x.v1", Finding, (), "xd.v1"), "at least one reference field"),
        (lambda: ItemSpec("x.v1", Finding, ("host",), "xd.v1", legacy_key="old"), "needs both its key"),
        (lambda: ReportSpec(ItemSpec("x.v1", Finding, ("host",), "xd.v1"), _wsjf()), "ranks Recommendation items"),
    ],
)
def test_a_spec_that_cannot_work_is_refused_when_it_is_built(spec: Callable[[], object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        spec()


def _wsjf() -> Ranking:
    from activity_core.kinds.instruction.wsjf import WSJF

    return WSJF


class _Unbounded(ContractModel):
    count: int


class _Infinite(ContractModel):
    ratio: float


class _Lax(ContractModel.__base__):  # type: ignore[name-defined]
    name: str


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (_Unbounded, "give the integer a range"),
        (_Infinite, "must refuse NaN and Infinity"),
        (_Lax, "must be strict and forbid extra keys"),
    ],
)
def test_a_model_the_boundary_cannot_enforce_is_refused(model: type, problem: str) -> None:
    with pytest.raises(UnsupportedModel, match=problem):
        compile_model(model)


def test_an_unmirrored_constraint_makes_the_model_careful() -> None:
    class Coded(ContractModel):
        code: Annotated[str, Field(pattern=r"^[A-Z]+\.[0-9]+$")]  # a "." is not mirrored

    assert compile_model(Coded).careful and not compile_model(Recommendation).careful
