"""``activity-core replay-output``: run the boundary on a captured answer, offline.

The same ``parse_report`` the workflow's ``apply_boundary`` activity runs, with the output
contract read from the same definition file, so what an operator sees here is what the run
saw (or would see after a parser change).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from activity_core.boundary import BoundaryResult, parse_report
from activity_core.boundary.guards import too_deep
from activity_core.definitions.loader import DefinitionError, DefinitionNotFound, load_definition
from activity_core.kinds.instruction.definition import TRIAGE_DEFINITION_ID, InstructionDefinition
from activity_core.kinds.instruction.item_models import report_spec
from activity_core.settings import Settings

DEFAULT_DEFINITION = TRIAGE_DEFINITION_ID
# An llm-connect response nests a few levels (its usage and metadata objects); anything deeper
# is not one, and is never handed to a recursive parser.
RESPONSE_MAX_DEPTH = 16

EPILOG = """\
examples:
  activity-core replay-output --definition {triage} --refs refs.json response.json
  activity-core replay-output --refs refs.json --finish-reason length answer.txt
  activity-core replay-output --refs refs.json - < answer.txt   (the answer on stdin)

RESPONSE_FILE holds either the raw model answer (the llm-connect `content`) or the whole
llm-connect response JSON, whose `content` and `finish_reason` are then used. Any file is
read: lines that are not UTF-8 are quarantined (invalid_encoding) and the others judged.
REFS.json is a JSON list of the State Hub ids known to the run, e.g.
["4ef0d53b-1777-41ae-80c6-1b69fdb34726"].

Prints the BoundaryResult as JSON on stdout (status, framing, truncated, summary, items,
quarantined, counts) and a one-line verdict on stderr.
Exit code: 0 clean or partial, 1 failed (no item survived), 2 usage error.
"""


class UsageError(Exception):
    """Bad input from the operator: the message says what to fix."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay-output",
        help="run the boundary parser on a captured model answer and print the BoundaryResult",
        description=(
            "Re-run the producer trust boundary (the item-framed report parser with its guardrails "
            "and quarantine lane) on a captured llm-connect answer, with the output contract of a "
            "definition, exactly as a run would."
        ),
        epilog=EPILOG.replace("{triage}", DEFAULT_DEFINITION),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--definition",
        default=DEFAULT_DEFINITION,
        help=f"definition id whose output contract applies (default: {DEFAULT_DEFINITION})",
    )
    parser.add_argument(
        "--refs", required=True, type=Path, metavar="REFS.json", help="JSON list of the State Hub ids known to the run"
    )
    parser.add_argument(
        "--definitions-dir",
        type=Path,
        default=None,
        help="where the definitions live (default: ACTIVITY_CORE_DEFINITIONS_DIR, else definitions/)",
    )
    parser.add_argument(
        "--finish-reason",
        default=None,
        help="the model's finish_reason, for a raw answer (a response JSON carries its own); 'length' marks truncation",
    )
    parser.add_argument("response", type=Path, metavar="RESPONSE_FILE", help="the captured answer, or - for stdin")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        result = replay(args)
    except UsageError as exc:
        print(f"activity-core replay-output: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    reasons = sorted({entry.reason.value for entry in result.quarantined})
    print(
        f"{result.status}: {result.counts.accepted} item(s) accepted, {result.counts.quarantined} quarantined"
        + (f" ({', '.join(reasons)})" if reasons else "")
        + (", truncated" if result.truncated else ""),
        file=sys.stderr,
    )
    return 1 if result.status == "failed" else 0


def replay(args: argparse.Namespace) -> BoundaryResult:
    directory: Path = args.definitions_dir or Settings().definitions_dir
    try:
        definition = load_definition(args.definition, directory).definition
        if not isinstance(definition, InstructionDefinition):
            raise UsageError(f"{args.definition} is a {definition.kind} definition: only instruction answers replay")
        contract = definition.output
    except (DefinitionNotFound, DefinitionError) as exc:
        raise UsageError(str(exc)) from None
    known_refs = _read_refs(args.refs)
    content, finish_reason = _read_response(_read_bytes(args.response, "RESPONSE_FILE"))
    return parse_report(
        content,
        contract=contract,
        spec=report_spec(contract),
        known_refs=known_refs,
        finish_reason=args.finish_reason or finish_reason,
    )


def _read_bytes(path: Path, role: str) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{role} {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{role} {path} is a directory; pass the captured answer file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {role} {path}: {exc.strerror}") from None


def _read_refs(path: Path) -> list[str]:
    try:
        text = _read_bytes(path, "REFS.json").decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"REFS.json {path} is not UTF-8 text; write a JSON list of ids") from None
    if too_deep(text, RESPONSE_MAX_DEPTH):
        raise UsageError(f'REFS.json {path} nests too deep to be a list of ids; write a list of ids, e.g. ["ws-1"]')
    try:
        refs: Any = json.loads(text)
    except ValueError as exc:
        raise UsageError(
            f'REFS.json {path} is not JSON ({exc}); write a list of ids, e.g. ["ws-1", "task-2"]'
        ) from None
    if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
        raise UsageError(f'REFS.json {path} must be a JSON list of id strings, e.g. ["ws-1", "task-2"]')
    return refs


def _read_response(data: bytes) -> tuple[str | bytes, str | None]:
    """The model's content and finish_reason: from a whole llm-connect response, or raw (as
    bytes when they are not all UTF-8, for the boundary to quarantine line by line).

    The check for a response is bounded: only a UTF-8 JSON object that nests no deeper than a
    response does is parsed, so hostile nesting (``[`` x 100000) is an answer to judge, not a
    recursion to crash in."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data, None  # JSON is UTF-8: bytes that are not cannot be a whole response
    if not text.lstrip().startswith("{") or too_deep(text, RESPONSE_MAX_DEPTH):
        return text, None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return text, None
    if not (isinstance(document, dict) and "content" in document):
        return text, None  # a single-document answer is itself a JSON object
    content, finish_reason = document["content"], document.get("finish_reason")
    if not isinstance(content, str):
        raise UsageError(
            f"the response's content is a {type(content).__name__}, not the model's text; "
            "pass the raw answer instead, or the response as llm-connect returned it"
        )
    if finish_reason is not None and not isinstance(finish_reason, str):
        raise UsageError("the response's finish_reason must be a string or null")
    return content, finish_reason
