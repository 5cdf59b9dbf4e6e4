"""Secret-shaped strings in a producer's answer: found, never passed on.

A model can echo what it was shown (OWASP LLM02, sensitive information disclosure). The
configured secret values are replaced before the answer reaches the boundary (by the
runtime, with ``replace_secrets``); this module catches what looks like a credential of any
kind: an item holding one is quarantined (``secret_detected``), the envelope's summary gets
the marker instead, and snippets of quarantined text are redacted.

The detector is this documented pattern list, modelled on the plugins of Yelp's
detect-secrets (private keys, AWS, GitHub, GitLab, Slack, Stripe, OpenAI-style, Google, JWT,
npm, PyPI, SendGrid, Azure storage, credentials in URLs) plus bearer tokens, which it lacks.
detect-secrets itself costs about 370 microseconds per line with those plugins (a hundred
times ``json.loads`` of the line), several of its plugins key on words that prose is full of,
and it would bring ``requests`` into the worker image.

What makes a string secret-shaped here is a pattern match that holds a run of at least
``RUN`` ASCII letters and digits (the random part of a key or token) or, for credentials in a
URL, an ``@``. That makes a cheap pre-filter exact: ``might_hold_secrets`` looks for such a
run over the whole answer in one ``bytes.translate`` and one ``find``, so a clean answer
(whose longest runs are words and UUID groups) skips the detector entirely. A key whose random
part has no such run (a header-only private key block, say) is not detected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MARKER = "[REDACTED]"
RUN = 16


@dataclass(frozen=True, slots=True)
class SecretPattern:
    name: str
    pattern: str


# Possessive quantifiers keep every pattern linear on hostile input.
PATTERNS = (
    SecretPattern(
        "private key",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    SecretPattern("bearer token", r"\b[Bb]earer[ \t]++[A-Za-z0-9\-._~+/]{16,}+=*+"),
    SecretPattern("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
    SecretPattern("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}+|github_pat_[A-Za-z0-9_]{22,}+)"),
    SecretPattern("GitLab token", r"\bgl(?:pat|dt|rt|ptt|cbt)-[A-Za-z0-9_\-]{20,}+"),
    SecretPattern("Slack token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}+|hooks\.slack\.com/services/[A-Za-z0-9/]{20,}+"),
    SecretPattern("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}+"),
    SecretPattern("OpenAI-style API key", r"\bsk-[A-Za-z0-9_\-]{20,}+"),
    SecretPattern("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    SecretPattern("JSON web token", r"\beyJ[A-Za-z0-9_\-]{8,}+\.eyJ[A-Za-z0-9_\-]{8,}+\.[A-Za-z0-9_\-]{8,}+"),
    SecretPattern("npm token", r"\bnpm_[A-Za-z0-9]{36}"),
    SecretPattern("PyPI token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}+"),
    SecretPattern("SendGrid key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    SecretPattern("Azure storage key", r"AccountKey=[A-Za-z0-9+/]{40,}+=*+"),
    SecretPattern("credentials in a URL", r"\b[a-zA-Z][a-zA-Z0-9+.\-]{0,20}+://[^\s:/@\"']++:[^\s/@\"']++@"),
)

_DETECTOR = re.compile("|".join(f"(?P<p{n}>{p.pattern})" for n, p in enumerate(PATTERNS)), re.DOTALL)
_RUN = re.compile(f"[A-Za-z0-9]{{{RUN}}}")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Letters and digits to "a", every other byte to " " (a non-ASCII character's bytes are never
# letters or digits): a run of RUN "a"s is a run of RUN of them.
_BYTE_RUNS = bytes(ord("a") if chr(byte) in _ALNUM else ord(" ") for byte in range(256))
_A_BYTE_RUN = b"a" * RUN


def might_hold_secrets(text: str) -> bool:
    """Whether any secret could be found in ``text`` or in the strings it decodes to: it holds an
    ``@``, a ``\\u`` escape (which can spell anything), or a run of ``RUN`` letters and digits."""
    if "@" in text or ("\\" in text and "\\u" in text):
        return True
    return _A_BYTE_RUN in text.encode("utf-8", "surrogatepass").translate(_BYTE_RUNS)


def _secret_shaped(match: re.Match[str]) -> bool:
    found = match.group()
    return "@" in found or _RUN.search(found) is not None


def find_secret(text: str) -> str | None:
    """The name of the first kind of secret found in ``text``, or None."""
    for match in _DETECTOR.finditer(text):
        if _secret_shaped(match):
            return PATTERNS[int(match.lastgroup[1:])].name  # type: ignore[index]
    return None


def redact(text: str) -> str:
    """``text`` with every secret-shaped string replaced by the marker."""
    return _DETECTOR.sub(lambda match: MARKER if _secret_shaped(match) else match.group(), text)


def replace_secrets(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``values`` (configured secrets) replaced by the
    marker, longest first so that a secret containing another is replaced whole. Empty values
    are skipped: they would match everywhere."""
    for value in sorted({value for value in values if value}, key=len, reverse=True):
        text = text.replace(value, MARKER)
    return text
