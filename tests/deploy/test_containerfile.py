"""The Containerfile and .containerignore: linted, and consistent with the package and k8s."""

from __future__ import annotations

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
    lint,
    stages,
)

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
IGNORE_FILE = ROOT / ".containerignore"


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


def test_the_containerfile_passes_the_lint(text: str) -> None:
    assert lint(text) == []


GOOD_TAIL = """
FROM docker.io/library/python:3.11.11-slim-bookworm AS runtime
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8081
HEALTHCHECK CMD ["python", "-c", "print()"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["activity-core"]
CMD ["worker"]
"""
GOOD_HEAD = "FROM docker.io/library/python:3.11.11-slim-bookworm AS builder\nRUN python -m venv /opt/venv\n"


def test_the_lint_passes_a_minimal_good_file() -> None:
    assert lint(GOOD_HEAD + GOOD_TAIL) == []


@pytest.mark.parametrize(
    ("broken", "finding"),
    [
        (GOOD_HEAD.replace("3.11.11-slim-bookworm", "latest"), "latest"),
        (GOOD_HEAD.replace(":3.11.11-slim-bookworm", ""), "no tag"),
        (GOOD_HEAD.replace("3.11.11-slim-bookworm", "3.11-slim"), "full x.y.z"),
        (GOOD_HEAD + "ADD https://example.com/tool.tgz /opt/\n", "ADD of a URL"),
        (GOOD_HEAD + "ADD src /src\n", "use COPY"),
        (GOOD_HEAD + "ENV STATE_HUB_TOKEN=abc123\n", "looks like a secret"),
        (GOOD_HEAD + "ARG API_KEY\n", "looks like a secret"),
        (GOOD_HEAD + "ENV DB=postgresql://app:hunter2@db:5432/app\n", "URL with credentials"),
        (GOOD_HEAD + "COPY .env /src/.env\n", "secret file"),
    ],
)
def test_the_lint_catches_build_stage_problems(broken: str, finding: str) -> None:
    findings = lint(broken + GOOD_TAIL)
    assert any(finding in f for f in findings), findings


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        ("USER 10001:10001\n", "", "no USER"),
        ("USER 10001:10001\n", "USER root\n", "USER is root"),
        ('CMD ["worker"]\n', 'CMD ["worker"]\nUSER 10001\n', "after ENTRYPOINT"),
        ("EXPOSE 8081\n", "EXPOSE 8081\nRUN apt-get update && apt-get install -y build-essential\n", "build tools"),
        ("EXPOSE 8081\n", "EXPOSE 8081\nRUN apt-get install -y --no-install-recommends gcc libpq-dev\n", "build tools"),
        ("EXPOSE 8081\n", "EXPOSE 8081\nRUN pip install activity-core\n", "pip install"),
        ("EXPOSE 8081\n", "EXPOSE 8081\nCOPY . /app\n", "whole build context"),
        ('ENTRYPOINT ["activity-core"]', "ENTRYPOINT activity-core", "shell form"),
        ("STOPSIGNAL SIGTERM\n", "", "STOPSIGNAL"),
        ("EXPOSE 8081\n", "", "EXPOSE"),
        ('HEALTHCHECK CMD ["python", "-c", "print()"]\n', "", "HEALTHCHECK"),
        ('HEALTHCHECK CMD ["python", "-c", "print()"]\n', "HEALTHCHECK NONE\n", "HEALTHCHECK"),
    ],
)
def test_the_lint_catches_final_stage_problems(old: str, new: str, finding: str) -> None:
    assert old in GOOD_TAIL
    findings = lint(GOOD_HEAD + GOOD_TAIL.replace(old, new))
    assert any(finding in f for f in findings), findings


def test_the_lint_wants_two_stages() -> None:
    findings = lint(GOOD_TAIL)
    assert any("multi-stage" in f for f in findings), findings


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

