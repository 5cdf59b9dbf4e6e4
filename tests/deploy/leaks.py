"""A scanner for secret-looking material in manifests and docs."""

from __future__ import annotations

import re
from typing import Any

import yaml

# Token-like material: anything here under k8s/ is a leak.
_LEAK_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    "API key": re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "URL with password": re.compile(r"[a-z][a-z0-9+.-]*://[^\s/:@$]+:(?!\$|<|\{)[^\s/@]+@", re.IGNORECASE),
    "bearer token": re.compile(r"\bBearer\s+(?!\$|<|\{)[A-Za-z0-9._~+/-]{12,}", re.IGNORECASE),
    "base64 blob": re.compile(r"(?<![A-Za-z0-9+/_.:-])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/_.-])"),
    "hex secret": re.compile(r"(?<![A-Za-z0-9])[0-9a-f]{32,}(?![A-Za-z0-9])"),
}


def leaks(text: str) -> list[str]:
    found = [f"{name}: {m.group(0)[:24]}..." for name, rx in _LEAK_PATTERNS.items() for m in rx.finditer(text)]
    for document in _yaml_documents(text):
        if isinstance(document, dict) and document.get("kind") == "Secret":
            for field in ("data", "stringData"):
                if document.get(field):
                    found.append(f"Secret {document.get('metadata', {}).get('name')} has {field}")
    return found


def _yaml_documents(text: str) -> list[Any]:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return []
