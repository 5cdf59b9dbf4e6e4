"""The image's Python content without a container builder: its build context and its wheel.

The builder stage of the Containerfile copies a few sources (what its ``COPY`` lines name,
less what .containerignore drops) and runs ``pip wheel --no-deps`` on them; the runtime stage
gets that wheel's virtualenv and nothing else of the package. :func:`build_image_wheel` does
the same steps here, so a test of the wheel is a test of what the image runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.deploy.containerfile import ignore_rules, is_ignored, stages

ROOT = Path(__file__).resolve().parents[2]


def builder_sources(root: Path = ROOT) -> list[str]:
    """The paths the builder stage copies from the build context, in order."""
    builder = stages((root / "Containerfile").read_text())[0]
    return [
        source
        for instruction in builder.all("COPY")
        if "--from" not in instruction.args
        for source in instruction.args.split()[:-1]
    ]


def build_context(destination: Path, root: Path = ROOT) -> Path:
    """Copy what the builder stage sees of the repository into ``destination``."""
    rules = ignore_rules((root / ".containerignore").read_text())
    for source in builder_sources(root):
        origin = root / source
        paths = [origin] if origin.is_file() else sorted(p for p in origin.rglob("*") if p.is_file())
        for path in paths:
            relative = path.relative_to(root).as_posix()
            if not is_ignored(relative, rules):
                (destination / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination / relative)
    return destination


def build_image_wheel(workdir: Path, root: Path = ROOT) -> Path:
    """The wheel the builder stage builds (``pip wheel --no-deps``), built from its context.

    ``--no-build-isolation`` uses the test extra's setuptools instead of fetching a build
    environment; the image's build fetches the same ``[build-system]`` requirements.
    """
    context = build_context(workdir / "context", root)
    out = workdir / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(context)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("activity_core-*.whl")
    return wheel


def install_image_wheel(workdir: Path, root: Path = ROOT) -> Path:
    """:func:`build_image_wheel`, installed on its own into ``workdir/site`` (no dependencies)."""
    target = workdir / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(build_image_wheel(workdir, root)),
        ],
        check=True,
        capture_output=True,
    )
    return target
