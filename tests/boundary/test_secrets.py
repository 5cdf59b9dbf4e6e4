"""Secret-shaped strings in an answer are never passed on: the item is quarantined, the summary
and every snippet redacted. Samples are built at run time, so no token-shaped literal sits in
the repository for a scanner to trip on."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activity_core.boundary import SECRET_MARKER, QuarantineReason, parse_report, replace_secrets
from activity_core.boundary.secrets import PATTERNS, find_secret, might_hold_secrets, redact
from tests.boundary.reports import REFS, SPEC, contract, envelope, item, line, report, trailer

R = QuarantineReason
ALNUM = "a1B2c3D4e5F6g7H8i9J0"

SAMPLES = {
    "private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + ALNUM * 3 + "\n-----END RSA PRIVATE KEY-----",
    "bearer token": "curl -H 'Authorization: Bearer " + ALNUM + "xyz.QRS'",
    "AWS access key id": "AKIA" + "IOSFODNN7" + "EXAMPLE",
    "GitHub token": "ghp" + "_" + ALNUM * 2,
    "GitLab token": "glpat" + "-" + ALNUM,
    "Slack token": "xoxb" + "-123456789012-1234567890123-" + ALNUM[:24] + "AbCd",
    "Stripe key": "sk" + "_live_" + ALNUM,
    "OpenAI-style API key": "sk" + "-proj-" + ALNUM * 2,
    "Google API key": "AIza" + "Sy" + ALNUM + "-_" + ALNUM[:13],
    "JSON web token": "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + ALNUM,
    "npm token": "npm" + "_" + ALNUM + ALNUM[:16],
    "PyPI token": "pypi" + "-AgEIcHlwaS5vcmc" + ALNUM * 3,
    "SendGrid key": "SG" + "." + ALNUM + "ab" + "." + ALNUM * 2 + "abc",
    "Azure storage key": "AccountKey" + "=" + ALNUM * 4 + "==",
    "credentials in a URL": "postgres://admin:hunter2" + "@db.internal:5432/app",
}


def parse(content: str):
    return parse_report(content, spec=SPEC, contract=contract(), known_refs=REFS)


def test_every_documented_pattern_has_a_sample() -> None:
    assert set(SAMPLES) == {pattern.name for pattern in PATTERNS}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_an_item_holding_a_secret_is_quarantined_and_the_secret_goes_nowhere(name: str) -> None:
    secret = SAMPLES[name]
    result = parse(report(item(1), item(2, rationale=f"Use {secret} to deploy.")))

    assert [i["candidate"] for i in result.items] == ["ws-1"] and result.status == "partial"
    [entry] = result.quarantined
    assert (entry.reason, entry.line) == (R.SECRET_DETECTED, 3) and name in entry.detail
    assert result.counts.quarantined == 1 and result.counts.quarantined_lines == 1
    shown = json.dumps(result.to_dict(), ensure_ascii=False)
    assert secret not in shown and json.dumps(secret)[1:-1] not in shown and SECRET_MARKER in entry.snippet


def test_a_secret_in_the_summary_is_replaced_by_the_marker() -> None:
    token = SAMPLES["GitHub token"]
    result = parse(report(item(1)).replace("Three recommendations.", f"Deploy with {token} today."))
    assert result.status == "clean" and result.summary == f"Deploy with {SECRET_MARKER} today."


def test_a_secret_spelled_with_escapes_is_found_in_the_decoded_text() -> None:
    token = SAMPLES["Stripe key"]
    escaped = line(item(2, title=token)).replace(token[:2], "\\u0073\\u006b")
    assert token not in escaped
    result = parse(report(item(1), escaped))
    assert [q.reason for q in result.quarantined] == [R.SECRET_DETECTED]


def test_snippets_of_other_refusals_are_redacted_too() -> None:
    token = SAMPLES["AWS access key id"]
    broken = line(item(2, title=f"key {token}")).replace('"rank": 2,', '"rank": 2')  # not JSON: invalid
    long_before = line(item(3, rationale="x" * 380 + " " + token))  # the key straddles the snippet's end
    result = parse(report(item(1), broken, long_before.replace('"rank"', '"rank": 1, "rank"', 1)))
    assert [q.reason for q in result.quarantined] == [R.REPAIR_FAILED, R.DUPLICATE_KEY]
    for entry in result.quarantined:
        assert token not in entry.snippet and token[:12] not in entry.snippet


def test_secrets_in_a_document_element_cost_that_element() -> None:
    elements = [{k: v for k, v in item(n).items() if k != "type"} for n in (1, 2)]
    elements[1]["next_action"] = "Log in with " + SAMPLES["credentials in a URL"]
    document = json.dumps({"date": "2026-06-26", "summary": "Two.", "items": elements}, indent=2)
    result = parse_report(document, spec=SPEC, contract=contract(framing="document"), known_refs=REFS)
    assert [(q.reason, q.index) for q in result.quarantined] == [(R.SECRET_DETECTED, 1)]


def test_a_clean_report_skips_the_detector() -> None:
    uuids = [f"4ef0d53b-1777-41ae-80c6-1b69fdb3472{n}" for n in range(7)]
    content = "\n".join(
        [
            line(envelope(7)),
            *(line(item(n + 1, uuid, title="Stabilise the scheduler gate: part two")) for n, uuid in enumerate(uuids)),
            line(trailer(7)),
        ]
    )
    assert not might_hold_secrets(content)


def test_words_and_ids_are_not_secrets() -> None:
    prose = "Responsibilities: the bearer of this task, sk-ip the gate; see https://example.org/docs and ws-12."
    assert find_secret(prose) is None and redact(prose) == prose


def _generable(pattern: str) -> str:
    """The pattern without possessive quantifiers (the same language), for hypothesis."""
    return re.sub(r"(?<=[}*+?])\+", "", pattern)


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.name for p in PATTERNS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_pre_filter_never_misses_what_the_detector_finds(pattern, data) -> None:
    sample = data.draw(st.from_regex(_generable(pattern.pattern), fullmatch=True).map(lambda s: f" {s} "))
    if find_secret(sample) is not None:
        assert might_hold_secrets(sample)
        assert might_hold_secrets(json.dumps({"title": sample}))


def test_replace_secrets_replaces_configured_values_longest_first() -> None:
    text = "token abc123 and abc123-extended, password pw"
    assert replace_secrets(text, ["abc123", "abc123-extended", "", "pw"]) == (
        f"token {SECRET_MARKER} and {SECRET_MARKER}, password {SECRET_MARKER}"
    )
