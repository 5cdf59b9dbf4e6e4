"""A focused Containerfile linter (hadolint is not available here), and the parser it uses.

``lint(text)`` returns a list of findings; an empty list means the file passes. The rules
are the ones activity-core's image must keep:

- every ``FROM`` names a pinned tag with a full patch version (or a digest), never ``latest``;
- no ``ADD`` (``COPY`` does not fetch URLs or unpack archives behind your back);
- no ``ENV``/``ARG`` that looks like a secret (token, password, key, DSN...), no
  credentials in a URL, no ``COPY`` of ``.env``/key files;
- the final stage: a non-root ``USER`` set before ``ENTRYPOINT``/``CMD`` and never reset to
  root, no compilers or ``-dev`` packages installed, no ``COPY`` of the whole context,
  exec-form ``ENTRYPOINT`` and ``CMD``, ``STOPSIGNAL SIGTERM``, an ``EXPOSE``, and a
  ``HEALTHCHECK``;
- at least two stages (build and runtime).
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
_SECRET_FILES = re.compile(r"(^|/)(\.env(\..*)?|id_rsa|id_ed25519|.*\.pem|.*\.key|\.netrc|\.pypirc)$")
_BUILD_TOOLS = re.compile(
    r"\b(build-essential|gcc|g\+\+|clang|make|cmake|cc|git|[a-z0-9.+-]+-dev|python3-dev|libpq-dev|rustc|cargo)\b"
)
_PACKAGE_INSTALL = re.compile(r"\b(apt-get|apt|apk|dnf|yum|microdnf)\b[^;&|]*\b(install|add)\b")
_PINNED_TAG = re.compile(r"^\d+\.\d+\.\d+")


def _is_pinned(base: str, stage_names: set[str]) -> str | None:
    if base in stage_names:
        return None
    if "@sha256:" in base:
        return None
    name = base.rsplit("/", 1)[-1]
    if ":" not in name:
        return f"base image {base!r} has no tag (implicitly latest)"
    tag = name.split(":", 1)[1]
    if tag == "latest":
        return f"base image {base!r} uses the latest tag"
    if "$" in tag:
        return f"base image {base!r} has a variable tag"
    if not _PINNED_TAG.match(tag):
        return f"base image {base!r} tag is not a full x.y.z version"
    return None


def lint(text: str) -> list[str]:
    findings: list[str] = []
    try:
        parsed = stages(text)
    except ValueError as exc:
        return [str(exc)]
    if len(parsed) < 2:
        findings.append("expected a multi-stage build (a builder stage and a runtime stage)")
    if not parsed:
        return findings

    names: set[str] = set()
    for stage in parsed:
        problem = _is_pinned(stage.base, names)
        if problem:
            findings.append(f"line {stage.line}: {problem}")
        if stage.name:
            names.add(stage.name)
        for instruction in stage.instructions:
            where = f"line {instruction.line}"
            if instruction.keyword == "ADD":
                if re.search(r"\b(https?|ftp|git)://|git@", instruction.args):
                    findings.append(f"{where}: ADD of a URL; download in a RUN with a checksum, or vendor it")
                else:
                    findings.append(f"{where}: ADD; use COPY")
            if instruction.keyword in ("ENV", "ARG"):
                pairs = (
                    env_pairs(instruction.args)
                    if instruction.keyword == "ENV"
                    else {instruction.args.split("=", 1)[0]: instruction.args.partition("=")[2]}
                )
                for key, value in pairs.items():
                    if _SECRET_NAME.search(key):
                        findings.append(f"{where}: {instruction.keyword} {key} looks like a secret; pass secrets at run time")
                    if _URL_CREDENTIALS.search(value):
                        findings.append(f"{where}: {instruction.keyword} {key} holds a URL with credentials")
            if instruction.keyword in ("COPY", "ADD"):
                words = [w for w in instruction.args.split() if not w.startswith("--")]
                form = exec_form(instruction.args)
                sources = (form or words)[:-1]
                for source in sources:
                    if _SECRET_FILES.search(source.rstrip("/")):
                        findings.append(f"{where}: copies {source!r}, which looks like a secret file")
            if instruction.keyword == "LABEL" and _URL_CREDENTIALS.search(instruction.args):
                findings.append(f"{where}: LABEL holds a URL with credentials")

    final = parsed[-1]
    findings.extend(_lint_final_stage(final))
    return findings


def _lint_final_stage(final: Stage) -> list[str]:
    findings: list[str] = []
    users = final.all("USER")
    entry = final.last("ENTRYPOINT")
    cmd = final.last("CMD")
    first_run_point = min((i.line for i in (entry, cmd) if i is not None), default=None)
    if not users:
        findings.append("final stage: no USER; the image would run as root")
    else:
        last_user = users[-1]
        user = last_user.args.split(":", 1)[0].strip()
        if user in ("root", "0", ""):
            findings.append(f"line {last_user.line}: final USER is root")
        if first_run_point is not None and last_user.line > first_run_point:
            findings.append(f"line {last_user.line}: USER is set after ENTRYPOINT/CMD")
    for instruction in final.instructions:
        where = f"line {instruction.line}"
        if instruction.keyword == "RUN":
            if _PACKAGE_INSTALL.search(instruction.args):
                tools = _BUILD_TOOLS.findall(instruction.args)
                if tools:
                    findings.append(f"{where}: final stage installs build tools {sorted({t for t in tools})}")
            if re.search(r"\bpip\b[^;&|]*\binstall\b", instruction.args):
                findings.append(f"{where}: final stage runs pip install; install into the venv in the builder")
        if instruction.keyword == "COPY" and "--from" not in instruction.args:
            words = instruction.args.split()
            if words and words[0] in (".", "./"):
                findings.append(f"{where}: final stage copies the whole build context")
    if entry is None:
        findings.append("final stage: no ENTRYPOINT")
    elif exec_form(entry.args) is None:
        findings.append(f"line {entry.line}: ENTRYPOINT is in shell form; signals would not reach the process")
    if cmd is not None and exec_form(cmd.args) is None:
        findings.append(f"line {cmd.line}: CMD is in shell form")
    stop = final.last("STOPSIGNAL")
    if stop is None or stop.args.strip().upper() not in ("SIGTERM", "15"):
        findings.append("final stage: STOPSIGNAL SIGTERM missing")
    if not final.all("EXPOSE"):
        findings.append("final stage: no EXPOSE for the health/metrics port")
    health = final.last("HEALTHCHECK")
    if health is None or health.args.strip().upper() == "NONE":
        findings.append("final stage: no HEALTHCHECK")
    return findings


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
