"""docs/scope.md's two "not built" promises hold in the code, and the README points to it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "activity_core"
SCOPE = (ROOT / "docs" / "scope.md").read_text()

# What would open an HTTP surface of activity-core's own.
_SERVERS = {"start_server", "start_unix_server", "HTTPServer", "ThreadingHTTPServer", "TCPServer", "run_app"}
_WEB_FRAMEWORKS = {"fastapi", "flask", "starlette", "aiohttp", "uvicorn", "hypercorn", "sanic", "tornado", "django"}


def production_modules() -> list[Path]:
    """The modules the wheel ships: the local stack's emulators are HTTP servers by design."""
    return [p for p in PACKAGE.rglob("*.py") if "devstack" not in p.relative_to(PACKAGE).parts]


def test_the_readme_links_the_scope() -> None:
    assert "](docs/scope.md)" in (ROOT / "README.md").read_text()


def test_the_scope_names_what_is_owned_and_what_is_not() -> None:
    owned, _, rest = SCOPE.partition("## Not owned here")
    for thing in ("Definitions", "Schedules", "Runs", "Evidence", "Task specs", "Triggering other teams' workers"):
        assert f"**{thing}**" in owned, thing
    for thing in ("Task lifecycle", "The work of the workers it triggers", "their credentials", "Provider credentials"):
        assert f"**{thing}**" in rest, thing
    assert "**Cluster reconciliation**" in rest
    assert "No `TaskExecutorWorkflow`" in rest and "No admin HTTP API" in rest


def test_there_is_no_task_executor_workflow() -> None:
    named = [p for p in production_modules() if "TaskExecutor" in p.read_text()]
    assert named == []


def test_the_only_http_listener_is_the_health_endpoint() -> None:
    listeners, frameworks = [], []
    for path in production_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in _SERVERS:
                    listeners.append((where, name))
            elif isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                frameworks += [(where, m) for m in modules if m.split(".")[0] in _WEB_FRAMEWORKS]
    assert listeners == [("activity_core/observability/health.py", "start_server")]
    assert frameworks == []
