"""The Containerfile's parser, the checks of activity-core's own that hadolint has no rule
for, and the .containerignore matcher.

hadolint (tests/deploy/test_containerfile.py runs it) lints the file itself: pinned base
images, COPY over ADD, exec-form ENTRYPOINT and CMD, a non-root last USER, and the rest of
its rules. :func:`project_findings` adds what is ours alone:

- at least two stages (build and runtime);
- ``STOPSIGNAL SIGTERM`` in the runtime stage (the worker drains on SIGTERM);
- no ``ENV``/``ARG`` that looks like a secret (token, password, key, DSN, ``DATABASE_URL``...)
  or holds a URL with credentials;
- no compilers or ``-dev`` packages installed in the runtime stage.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


def instructions(text: str) -> list[Instruction]:
    """Logical instructions: comments dropped, backslash continuations joined."""
    result: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # comment lines inside a continuation are skipped, as BuildKit does
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        logical = " ".join(part for part in buffer if part)
        buffer = []
        keyword, _, args = logical.partition(" ")
        result.append(Instruction(keyword.upper(), args.strip(), start))
    if buffer:
        raise ValueError("Containerfile ends inside a line continuation")
    return result


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append(Stage(base, name, instruction.line))
        elif instruction.keyword == "ARG" and not result:
            continue  # ARGs before the first FROM
        else:
            if not result:
                raise ValueError(f"line {instruction.line}: {instruction.keyword} before FROM")
            result[-1].instructions.append(instruction)
    return result


def exec_form(args: str) -> list[str] | None:
    """The JSON-array form of an ENTRYPOINT/CMD, or None for shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def env_pairs(args: str) -> dict[str, str]:
    """``ENV A=1 B="2 3"`` or the legacy ``ENV A 1`` -> {"A": "1", "B": "2 3"}."""
    words = shlex.split(args, posix=True)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words if "=" in word)


_SECRET_NAME = re.compile(
    r"(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|(^|_)KEY$|CREDENTIAL|DATABASE_URL|DSN$|AUTH)",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
_BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|cmake|cc|git|[a-z0-9.+-]+-dev|rustc|cargo)\b")
_PACKAGE_INSTALL = re.compile(r"\b(apt-get|apt|apk|dnf|yum|microdnf)\b[^;&|]*\b(install|add)\b")


def project_findings(text: str) -> list[str]:
    """What activity-core asks of its image beyond hadolint's rules; empty when all hold."""
    parsed = stages(text)
    findings: list[str] = []
    if len(parsed) < 2:
        findings.append("expected a multi-stage build (a builder stage and a runtime stage)")
    for stage in parsed:
        for instruction in stage.all("ENV") + stage.all("ARG"):
            findings.extend(_secret_findings(instruction))
    if not parsed:
        return findings
    runtime = parsed[-1]
    stop = runtime.last("STOPSIGNAL")
    if stop is None or stop.args.strip().upper() not in ("SIGTERM", "15"):
        findings.append("runtime stage: STOPSIGNAL SIGTERM missing (the worker drains on SIGTERM)")
    for instruction in runtime.all("RUN"):
        if _PACKAGE_INSTALL.search(instruction.args):
            tools = sorted(set(_BUILD_TOOLS.findall(instruction.args)))
            if tools:
                findings.append(f"line {instruction.line}: the runtime stage installs build tools {tools}")
    return findings


def _secret_findings(instruction: Instruction) -> list[str]:
    """hadolint's DL3064 knows TOKEN and PASSWORD, not a DSN nor credentials inside a URL."""
    if instruction.keyword == "ENV":
        pairs = env_pairs(instruction.args)
    else:
        name, _, default = instruction.args.partition("=")
        pairs = {name.strip(): default}
    found = []
    where = f"line {instruction.line}"
    for key, value in pairs.items():
        if _SECRET_NAME.search(key):
            found.append(f"{where}: {instruction.keyword} {key} looks like a secret; pass secrets at run time")
        if _URL_CREDENTIALS.search(value):
            found.append(f"{where}: {instruction.keyword} {key} holds a URL with credentials")
    return found


# --- .containerignore ------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker/buildah ignore-pattern semantics: ``*`` and ``?`` stay within one path
    segment, ``**`` spans any number of segments; paths are relative to the context root."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def ignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(is_exception, regex) per pattern line, in order."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line[1:] if exception else line
        pattern = pattern.strip().lstrip("/").rstrip("/")
        rules.append((exception, _pattern_regex(pattern)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``path`` (relative, '/'-separated) is left out of the build context.

    A pattern matching the path or any of its parent directories applies; the last
    matching pattern decides (as in moby's patternmatcher)."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for exception, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not exception
    return ignored
