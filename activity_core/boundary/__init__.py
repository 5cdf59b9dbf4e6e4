"""The producer trust boundary: pure functions from untrusted model output to a BoundaryResult.

Generic over the item model: a definition kind registers an ``ItemSpec`` (and a ``Ranking``)
and a definition names them in its output contract. See
docs/adr/adr-004-producer-trust-boundary.md for why, docs/output-contract.md for the report
contract and the quarantine reasons.
"""

from activity_core.boundary.contract import HARD_MAX_ITEMS, BoundaryLimits, OutputContract
from activity_core.boundary.models import ContractModel, Text
from activity_core.boundary.parser import parse_report
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.result import AcceptedItem, BoundaryResult, Counts, QuarantinedItem
from activity_core.boundary.schemas import output_model_params, schema_for_prompt
from activity_core.boundary.secrets import MARKER as SECRET_MARKER
from activity_core.boundary.secrets import replace_secrets
from activity_core.boundary.spec import Assessment, ItemSpec, Ranking, ReportSpec

__all__ = [
    "HARD_MAX_ITEMS",
    "SECRET_MARKER",
    "AcceptedItem",
    "Assessment",
    "BoundaryLimits",
    "BoundaryResult",
    "ContractModel",
    "Counts",
    "ItemSpec",
    "OutputContract",
    "QuarantineReason",
    "QuarantinedItem",
    "Ranking",
    "ReportSpec",
    "Text",
    "output_model_params",
    "parse_report",
    "replace_secrets",
    "schema_for_prompt",
]
