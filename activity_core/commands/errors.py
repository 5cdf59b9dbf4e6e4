"""How every command fails: one line on stderr that names the problem and the fix, and an
exit code from one table (the README copies it).

Commands raise a ``CommandError`` for what they detect themselves; ``as_command_error``
sorts what the layers below raise (settings, definitions, PostgreSQL, Temporal, the service
clients, the filesystem) into the same tree, so ``activity_core.cli`` is the one place that
prints a failure and picks its code::

    CommandError                 1  FAILED       the work ran and its outcome is a failure
    ├── UsageError               2  USAGE        an argument, a setting or a definition to fix
    ├── Unavailable              3  UNAVAILABLE  a service could not be reached or failed
    └── FileProblem              4  FILE         a file or directory could not be read or written
    (anything else)             70  BUG          a defect of activity-core: report it
    (KeyboardInterrupt)        130  INTERRUPTED  Ctrl-C before the work was done
"""

from __future__ import annotations

import re
from enum import IntEnum

from temporalio.service import RPCError

from activity_core.clients._http import ServiceError
from activity_core.definitions.loader import DefinitionError, DefinitionNotFound

try:  # the local stack is in a source checkout only (the wheel and the image leave it out)
    from activity_core.devstack.embedded import EmbeddedServerError
except ModuleNotFoundError:  # pragma: no cover - exercised by the installed-wheel test
    EmbeddedServerError = type("EmbeddedServerError", (Exception,), {})  # type: ignore[misc, assignment]  # never raised
from activity_core.settings import SettingsError
from activity_core.store.migrations import MigrationError, MigrationFileError
from activity_core.store.pool import SchemaOutdated, StoreError, as_store_error
from activity_core.temporal.worker import WorkerConfigError


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    UNAVAILABLE = 3
    FILE = 4
    BUG = 70  # EX_SOFTWARE: nothing an operator can fix; report it
    INTERRUPTED = 130


class CommandError(Exception):
    """A failure the operator can act on: ``problem`` says what went wrong, ``fix`` what to do."""

    exit_code = ExitCode.FAILED

    def __init__(self, problem: str, fix: str | None = None) -> None:
        super().__init__(problem if fix is None else f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


class UsageError(CommandError):
    exit_code = ExitCode.USAGE


class Unavailable(CommandError):
    exit_code = ExitCode.UNAVAILABLE


class FileProblem(CommandError):
    exit_code = ExitCode.FILE


_SETTINGS_FIX = "fix or unset it (the README's settings table lists what each variable allows)"
_TEMPORAL_FIX = "check TEMPORAL_ADDRESS and that the Temporal frontend is up"
_POSTGRES_FIX = "check DATABASE_URL and that PostgreSQL is up"


def as_command_error(exc: BaseException) -> CommandError | None:
    """The ``CommandError`` an expected failure of a lower layer amounts to; None for a bug."""
    if isinstance(exc, CommandError):
        return exc
    if isinstance(exc, SettingsError):
        return UsageError(str(exc), _SETTINGS_FIX)
    if isinstance(exc, DefinitionError | DefinitionNotFound | WorkerConfigError):
        return UsageError(str(exc))
    exc = as_store_error(exc) or exc
    if isinstance(exc, SchemaOutdated):
        return UsageError("the run-history schema is not up to date", "run `activity-core migrate`")
    if isinstance(exc, MigrationFileError):
        return FileProblem(str(exc), "set ACTIVITY_CORE_MIGRATIONS_DIR to the directory of the NNNN_name.sql files")
    if isinstance(exc, MigrationError):
        return CommandError(str(exc))
    if isinstance(exc, StoreError):  # DatabaseUnavailable included
        return Unavailable(str(exc), _POSTGRES_FIX)
    if isinstance(exc, EmbeddedServerError):
        return Unavailable(str(exc))
    if isinstance(exc, ServiceError):
        return Unavailable(str(exc))
    if isinstance(exc, RPCError):
        return Unavailable(f"Temporal answered {exc.status.name}: {exc.message}", _TEMPORAL_FIX)
    if isinstance(exc, RuntimeError) and str(exc).startswith(TEMPORAL_CONNECT_FAILURE):
        return Unavailable(f"cannot reach Temporal: {temporal_connect_reason(exc)}", _TEMPORAL_FIX)
    if isinstance(exc, ConnectionError | TimeoutError):
        return Unavailable(f"a service did not answer: {type(exc).__name__}: {exc}")
    if isinstance(exc, OSError):
        return file_problem(exc)
    return None


def file_problem(exc: OSError, doing: str = "cannot use") -> FileProblem:
    """``cannot read /x: No such file or directory``: the path and the system's reason."""
    where = f" {exc.filename}" if exc.filename is not None else ""
    return FileProblem(f"{doing}{where}: {exc.strerror or exc}", "check the path and its permissions")


TEMPORAL_CONNECT_FAILURE = "Failed client connect:"
_QUOTED_REASON = re.compile(r'(?:message|error): "([^"]+)"')
_ENDPOINT = re.compile(r'ConnectError\("[^"]*", ([^,)]+)')


def temporal_connect_reason(exc: BaseException) -> str:
    """The operating system's words from the SDK's connect error (a Rust debug dump)."""
    text = str(exc)
    reasons = _QUOTED_REASON.findall(text)
    endpoint = _ENDPOINT.search(text)
    reason = reasons[-1] if reasons else text.removeprefix(TEMPORAL_CONNECT_FAILURE).strip()[:200]
    return f"{reason} ({endpoint.group(1)})" if endpoint else reason
