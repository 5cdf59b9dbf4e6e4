"""A contract-faithful llm-connect on loopback, for the local stack and the tests.

``POST /execute`` validates the RunConfig like the real service (a ``model_params.json_schema``
must be a valid JSON Schema) and, by default, answers what a well-behaved model would: an
item-framed NDJSON WSJF report that ranks real ids taken from the prompt's planning state,
deterministic for a given prompt; asked for a ``json_schema``, the same report as one
whole-report document ``{"date", "summary", "items": [...]}``, as a structured-output mode
would write it. Faults queued
on ``POST /execute`` reproduce what models and providers actually do wrong, down to the
2026-06-26 monolithic document with one missing comma deep in the list. Routes, by the
names faults are queued on: ``health`` and ``execute``.

Subprocess: ``python -m activity_core.devstack.llm_connect_emulator --port 0``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from activity_core.clients.llm_connect import LlmConnectApi
from activity_core.devstack.emulator_http import (
    EmulatorApp,
    EmulatorHandle,
    RecordedRequest,
    Reply,
    Route,
    argument_parser,
    field_problems,
    serve_until_terminated,
)

DEFAULT_PROFILES = frozenset({"custodian-triage-balanced"})
EXECUTE_FAULTS = frozenset(
    {
        # what models write wrong (a 200 with bad content)
        "malformed_item",
        "truncated",
        "monolithic_0626",
        "unknown_reference",
        "garbage",
        # what llm-connect or the provider answer instead
        "provider_error",
        "structured_output_error",
        "configuration_error",
        "content_not_string",
    }
)

MODEL = "emulator-wsjf-1"
FIBONACCI = (1, 2, 3, 5, 8, 13, 20)
DEFAULT_TOP_N = 7
MONOLITHIC_MIN_ITEMS = 7
# The emulator's "today" when a prompt names no date, so that the answer stays a pure
# function of the prompt (the seeded State Hub lives in June 2026 too).
FALLBACK_DATE = "2026-06-26"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_CONTEXT_LINE = re.compile(r"^-\s*(?:workstream|task)\s+(" + _UUID.pattern + r")\s*\|(.*)$", re.IGNORECASE)
_TODAY = re.compile(r"Today is (\d{4}-\d{2}-\d{2})")
_TOP_N = re.compile(r"at most\s+(\d+)")
# The legacy model wrote longer rationales; this brings 7 items to the ~5 KB of 2026-06-26.
_LEGACY_RATIONALE_TAIL = (
    "Dependencies are clear, the owning team has capacity this week, and nothing upstream blocks the first step."
)


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str


def planning_candidates(prompt: str) -> list[Candidate]:
    """The UUIDs between the ``BEGIN PLANNING STATE`` and ``END PLANNING STATE`` lines, in
    order of first appearance, titled from ``- workstream|task <id> | <slug|key> | <title> |``."""
    lines = [line.strip() for line in prompt.splitlines()]
    try:
        block = lines[lines.index("BEGIN PLANNING STATE") + 1 : lines.index("END PLANNING STATE")]
    except ValueError:
        return []
    titles: dict[str, str] = {}
    for line in block:
        if match := _CONTEXT_LINE.match(line):
            fields = [f.strip() for f in match.group(2).split("|")]
            titles.setdefault(match.group(1), fields[1] if len(fields) > 1 and fields[1] else fields[0])
    ids = dict.fromkeys(m.group(0) for line in block for m in _UUID.finditer(line))
    return [Candidate(id, titles.get(id, id)) for id in ids]


def ranked_items(prompt: str, candidates: Sequence[Candidate], count: int) -> list[dict[str, Any]]:
    """``count`` report items for distinct candidates, best WSJF score first; the scores come
    from a generator seeded with the prompt, so the same prompt always gets the same ranking."""
    rng = random.Random(hashlib.sha256(prompt.encode()).digest())
    scored = []
    for candidate in rng.sample(list(candidates), min(count, len(candidates))):
        bv, tc, rr, size = (rng.choice(FIBONACCI) for _ in range(4))
        wsjf = {
            "business_value": bv,
            "time_criticality": tc,
            "risk_reduction": rr,
            "job_size": size,
            "score": round((bv + tc + rr) / size, 2),
        }
        scored.append((candidate, wsjf))
    scored.sort(key=lambda pair: (-pair[1]["score"], pair[0].id))
    return [
        {
            "type": "item",
            "rank": rank,
            "candidate": candidate.id,
            "title": candidate.title,
            "wsjf": wsjf,
            "rationale": (
                f"Business value {wsjf['business_value']}, time criticality {wsjf['time_criticality']} and "
                f"risk reduction {wsjf['risk_reduction']} against a job size of {wsjf['job_size']} "
                f"give a WSJF score of {wsjf['score']}."
            ),
            "next_action": f"Pick up {candidate.title} today and post progress to State Hub.",
        }
        for rank, (candidate, wsjf) in enumerate(scored, start=1)
    ]


def ndjson_report(date: str, items: Sequence[dict[str, Any]], considered: int) -> list[str]:
    """Envelope, items and trailer, one JSON object per line."""
    summary = f"{len(items)} recommendations for {date} out of {considered} planning items, ranked by WSJF."
    return [
        json.dumps({"type": "summary", "date": date, "summary": summary, "item_count": len(items)}),
        *(json.dumps(item) for item in items),
        json.dumps({"type": "end", "item_count": len(items)}),
    ]


def report_document(date: str, items: Sequence[dict[str, Any]], considered: int) -> str:
    """The whole-report document (the ``document`` framing), pretty-printed as providers'
    structured-output modes tend to write it: the envelope's date and summary, the items
    without their line ``type``."""
    summary = f"{len(items)} recommendations for {date} out of {considered} planning items, ranked by WSJF."
    elements = [{key: value for key, value in item.items() if key != "type"} for item in items]
    return json.dumps({"date": date, "summary": summary, "items": elements}, indent=2)


def monolithic_document(date: str, items: Sequence[dict[str, Any]]) -> str:
    """The legacy shape as the 2026-06-26 model wrote it: one pretty-printed document (about
    5 KB for 7 items) with the ``,`` after ``risk_reduction`` missing in the last item, so
    that one delimiter loses the whole report."""
    recommendations = [
        {key: value for key, value in item.items() if key != "type"}
        | {"rationale": f"{item['rationale']} {_LEGACY_RATIONALE_TAIL}"}
        for item in items
    ]
    document = json.dumps(
        {"summary": f"WSJF triage for {date}: {len(items)} recommendations.", "recommendations": recommendations},
        indent=2,
    )
    marker = '"risk_reduction": '
    last = document.rfind(marker)
    if last < 0:
        return document
    comma = document.index(",", last)
    return document[:comma] + document[comma + 1 :]


class LlmConnectApp(EmulatorApp):
    def __init__(self, *, profiles: Iterable[str] = DEFAULT_PROFILES):
        self.profiles = frozenset(profiles)
        self.routes = {
            "health": Route("GET", LlmConnectApi.HEALTH, lambda request, fault: Reply(200, {"status": "ok"})),
            "execute": Route("POST", LlmConnectApi.EXECUTE, self._execute, EXECUTE_FAULTS),
        }

    def reset(self) -> None:
        """Nothing to restore: the answers are a pure function of the request."""

    def _execute(self, request: RecordedRequest, fault: str | None) -> Reply:
        if fault == "provider_error":
            return _error(502, "provider_error", "upstream model API returned 503", retryable=True)
        if fault == "structured_output_error":
            message = "provider returned output that does not match the requested structure"
            return _error(502, "malformed_structured_output", message, retryable=False)
        try:
            config = request.json()
        except ValueError:
            return _error(422, "validation_error", "body must be a JSON RunConfig", retryable=False)
        if problems := _run_config_problems(config):
            return _error(422, "validation_error", "; ".join(problems), retryable=False)
        profile = config["model_name"]
        if fault == "configuration_error":
            message = f"provider secret for profile {profile!r} is missing"
            return _error(400, "configuration_error", message, retryable=False)
        if profile not in self.profiles:
            return _error(400, "configuration_error", f"profile {profile!r} is not configured", retryable=False)
        prompt = config["prompt"]
        document = "json_schema" in config.get("model_params", {})
        content, finish_reason = _content(prompt, fault, document=document)
        answer: Any = content
        if fault == "content_not_string":  # an adapter that hands back the parsed output, not the text
            answer = json.loads(content) if document else [json.loads(line) for line in content.splitlines()]
        return Reply(
            200,
            {
                "content": answer,
                "model": MODEL,
                "provider": "emulator",
                "usage": {
                    "prompt_tokens": len(prompt) // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": len(prompt) // 4 + len(content) // 4,
                },
                "finish_reason": finish_reason,
                "metadata": {"profile": profile},
            },
        )


def _content(prompt: str, fault: str | None, *, document: bool = False) -> tuple[str, str]:
    """The model's answer to ``prompt`` under an output fault (or none): ``(content, finish_reason)``;
    ``document``: the RunConfig asked for a JSON Schema, so the answer is one document."""
    if fault == "garbage":
        return "I'm sorry, I can't rank these items today.\n```\n{ranking: pending\n```", "stop"
    today = _TODAY.search(prompt)
    date = today.group(1) if today else FALLBACK_DATE
    at_most = _TOP_N.search(prompt)
    top_n = int(at_most.group(1)) if at_most else DEFAULT_TOP_N
    candidates = planning_candidates(prompt)
    if fault == "monolithic_0626":
        return monolithic_document(date, ranked_items(prompt, candidates, max(top_n, MONOLITHIC_MIN_ITEMS))), "stop"
    items = ranked_items(prompt, candidates, top_n)
    if fault == "unknown_reference" and items:
        stranger = str(uuid.uuid5(uuid.NAMESPACE_URL, f"unknown-reference:{prompt}"))
        items[-1] = items[-1] | {"candidate": stranger}
    if document:
        return _document_content(date, items, len(candidates), fault)
    lines = ndjson_report(date, items, len(candidates))
    if fault == "malformed_item" and items:
        middle = 1 + len(items) // 2  # line 0 is the envelope
        lines[middle] = lines[middle].replace('", "title": ', '" "title": ', 1)
    if fault == "truncated":
        last = lines[-2]  # the trailer goes; the line before it is cut mid-way
        return "\n".join([*lines[:-2], last[: len(last) // 2]]), "length"
    return "\n".join(lines), "stop"


def _document_content(date: str, items: list[dict[str, Any]], considered: int, fault: str | None) -> tuple[str, str]:
    """The document framing under a fault: a provider treating the schema as advisory."""
    content = report_document(date, items, considered)
    if fault == "malformed_item" and items:  # one missing comma in the middle element
        middle = content.index('"title"', content.index('"rank": ' + str(1 + len(items) // 2)))
        comma = content.rindex(",", 0, middle)
        return content[:comma] + content[comma + 1 :], "stop"
    if fault == "truncated":  # cut inside the last element
        return content[: content.rindex('"next_action"')], "length"
    return content, "stop"


def _run_config_problems(config: Any) -> list[str]:
    problems = field_problems(
        config,
        required={"prompt": str, "model_name": str, "temperature": (int, float), "max_tokens": int, "max_depth": int},
        optional={"model_params": dict, "system_prompt": (str, type(None))},
    )
    if problems:
        return problems
    if not config["prompt"].strip():
        problems.append("prompt must not be empty")
    if not 0 <= config["temperature"] <= 2:
        problems.append("temperature must be between 0 and 2")
    if config["max_tokens"] <= 0:
        problems.append("max_tokens must be positive")
    params = config.get("model_params", {})
    if "json_schema" in params:
        schema = params["json_schema"]
        try:
            if not isinstance(schema, dict):
                raise SchemaError(f"a JSON Schema is an object, not {type(schema).__name__}")
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(f"model_params.json_schema is not a valid JSON Schema: {exc.message}")
    return problems


def _error(status: int, error_type: str, message: str, *, retryable: bool) -> Reply:
    return Reply(status, {"error": {"type": error_type, "message": message, "retryable": retryable}})


class LlmConnectEmulator(EmulatorHandle[LlmConnectApp]):
    """A started llm-connect emulator; ``requests("execute")`` are the calls it answered."""


def start_llm_connect_emulator(
    *, profiles: Iterable[str] = DEFAULT_PROFILES, host: str = "127.0.0.1", port: int = 0
) -> LlmConnectEmulator:
    """Start an llm-connect emulator that knows the runtime ``profiles``."""
    return LlmConnectEmulator(LlmConnectApp(profiles=profiles), host=host, port=port)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argument_parser("An llm-connect emulator on loopback (see docs/emulators.md).")
    parser.add_argument(
        "--profile",
        action="append",
        help=f"a runtime profile it knows (repeatable; default: {', '.join(sorted(DEFAULT_PROFILES))})",
    )
    args = parser.parse_args(argv)
    profiles = args.profile or DEFAULT_PROFILES
    serve_until_terminated(start_llm_connect_emulator(profiles=profiles, host=args.host, port=args.port))


if __name__ == "__main__":
    main()
