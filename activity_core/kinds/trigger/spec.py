"""The ``command:`` section of a trigger definition: what to run, where, and how patiently.

A trigger runs another team's worker command (today: ops-warden's ``warden worker run
--once``) once per run, on a command worker that serves ``task_queue`` on that team's side
(docs/adr/adr-006-trigger-placement.md). The command is an argv list, never a shell string:
nothing between the definition and ``execve`` interprets it. The mode is separate from the
argv so that the run, the row and the at-most-once rule all know whether a pass may change
anything; ``mode_flags`` maps it onto the command's own flags.
"""

from __future__ import annotations

import posixpath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Mode = Literal["dry_run", "execute"]

# Bookkeeping around the command activity (plan, child start, result): quick steps.
_PASS_MARGIN_SECONDS = 60
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModeFlags(_Strict):
    """The command's flag for each mode (ops-warden: ``--dry-run`` / ``--execute``)."""

    dry_run: str = Field(default="--dry-run", min_length=1)
    execute: str = Field(default="--execute", min_length=1)


class CommandSpec(_Strict):
    argv: list[str] = Field(
        min_length=1,
        description="The command as an argv list, without the mode flag (appended from mode_flags).",
    )
    mode: Mode = Field(
        default="dry_run",
        description="dry_run plans only and may be retried; execute acts and runs at most once per run.",
    )
    mode_flags: ModeFlags = Field(default_factory=ModeFlags)
    task_queue: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description="The task queue the command worker on the command's side serves.",
    )
    time_budget_seconds: int = Field(
        ge=1, le=6 * 3600, description="The pass is killed (its whole process group) after this long."
    )
    kill_grace_seconds: int = Field(
        default=10, ge=1, le=300, description="Between SIGTERM and SIGKILL when the pass is stopped."
    )
    heartbeat_timeout_seconds: int = Field(
        default=30, ge=2, le=600, description="How soon a lost command worker is noticed."
    )
    start_within_seconds: int = Field(
        default=120,
        ge=5,
        le=3600,
        description="No command worker took the pass within this: the run fails as never started.",
    )
    dry_run_max_attempts: int = Field(
        default=3, ge=1, le=10, description="Attempts of a dry_run pass when its command worker is lost."
    )

    @field_validator("argv")
    @classmethod
    def _an_argv_not_a_shell_string(cls, argv: list[str]) -> list[str]:
        if any(not arg or "\x00" in arg for arg in argv):
            raise ValueError("every argument must be a non-empty string without NUL characters")
        if len(argv) == 1 and any(ch.isspace() for ch in argv[0]):
            raise ValueError(
                f"{argv[0]!r} looks like a shell string; write the command as a list of arguments, "
                "e.g. [warden, worker, run, --once]"
            )
        if posixpath.basename(argv[0]) in _SHELLS:
            raise ValueError(
                f"{argv[0]!r} is a shell, which would interpret a string as the command; name the program itself"
            )
        return argv

    @model_validator(mode="after")
    def _mode_only_through_mode(self) -> CommandSpec:
        flags = {self.mode_flags.dry_run, self.mode_flags.execute}
        if len(flags) != 2:
            raise ValueError("mode_flags.dry_run and mode_flags.execute must differ")
        if flags & set(self.argv):
            raise ValueError(f"argv must not contain a mode flag ({' or '.join(sorted(flags))}); set mode instead")
        return self

    def full_argv(self) -> list[str]:
        """What the command worker executes: the argv with the mode's flag appended."""
        flag = self.mode_flags.execute if self.mode == "execute" else self.mode_flags.dry_run
        return [*self.argv, flag]

    def pass_timeout_seconds(self) -> int:
        """The most one pass can take: waiting for a command worker, then every allowed attempt
        running its full budget and kill grace. A run's execution timeout must exceed this."""
        attempts = 1 if self.mode == "execute" else self.dry_run_max_attempts
        per_attempt = self.time_budget_seconds + self.kill_grace_seconds + _PASS_MARGIN_SECONDS
        return self.start_within_seconds + attempts * per_attempt
