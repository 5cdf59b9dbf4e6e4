"""What the production image holds of the package: the wheel, without the local stack.

``activity_core/devstack/`` (the embedded Temporal and PostgreSQL, the emulators) serves
``make run`` and the tests through the editable install; the wheel the image installs leaves
it out, and what is left still works on its own.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pytest

import activity_core
from tests.deploy.image import ROOT, builder_sources, install_image_wheel


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("image")


@pytest.fixture(scope="module")
def installed(workdir: Path) -> Path:
    return install_image_wheel(workdir)


@pytest.fixture(scope="module")
def wheel(installed: Path, workdir: Path) -> Path:
    (built,) = (workdir / "dist").glob("activity_core-*.whl")
    return built


def run_installed(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Python with only the wheel and the dependencies: ``-S`` keeps the editable install's
    finder (a .pth hook in site-packages) from serving the source tree's modules."""
    path = f"{site}:{sysconfig.get_paths()['purelib']}:{sysconfig.get_paths()['platlib']}"
    return subprocess.run(
        [sys.executable, "-S", "-c", code],
        # the image's layout: the definitions beside the package, not inside it
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin", "ACTIVITY_CORE_DEFINITIONS_DIR": str(ROOT / "definitions")},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_builder_copies_the_package_and_its_metadata_only() -> None:
    assert builder_sources() == ["pyproject.toml", "README.md", "activity_core"]


def test_the_wheel_has_the_package_but_not_the_local_stack(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "activity_core/cli.py" in names and "activity_core/temporal/worker.py" in names
    assert "activity_core/observability/health.py" in names and "activity_core/py.typed" in names
    assert [n for n in names if "devstack" in n or "emulator" in n] == []
    source = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "activity_core").rglob("*.py") if "devstack" not in p.parts
    }
    assert source <= set(names), source - set(names)


def test_the_installed_wheel_runs_its_commands_without_the_local_stack(installed: Path, tmp_path: Path) -> None:
    probe = run_installed(
        installed,
        "import importlib.util, activity_core; print(activity_core.__file__); "
        "print(importlib.util.find_spec('activity_core.devstack'))",
        tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    where, devstack = probe.stdout.split()
    assert where.startswith(str(installed)) and devstack == "None"

    cli = "from activity_core.cli import main; raise SystemExit(main({argv}))"
    help_text = run_installed(installed, cli.format(argv=["worker", "--help"]), tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert "/readyz" in help_text.stdout

    local_run = run_installed(installed, cli.format(argv=["run"]), tmp_path)
    assert local_run.returncode == 2, local_run.stderr
    assert "Traceback" not in local_run.stderr and local_run.stderr.count("\n") == 1
    assert "not part of this installation" in local_run.stderr and "make run" in local_run.stderr


def test_the_editable_install_of_make_run_and_the_tests_keeps_the_local_stack() -> None:
    assert Path(activity_core.__file__).resolve().parent == ROOT / "activity_core"
    spec = find_spec("activity_core.devstack.stack")
    assert spec is not None and spec.origin == str(ROOT / "activity_core" / "devstack" / "stack.py")
