"""The one place activity-core reads its environment.

Every knob is a field here, documented in the README with its default. Nothing else in
the package calls ``os.environ``: code takes a ``Settings`` (or the values it needs) as a
parameter, so tests and the local stack can build their own without touching the process
environment.

An unset service address (``TEMPORAL_ADDRESS``, ``DATABASE_URL``, ``LLM_CONNECT_URL``,
``STATE_HUB_URL``) means "embedded": ``activity-core run`` starts a local one. The worker
in a cluster requires them all.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# --- Task emission (issue-core): the sink types of the ISSUE_SINK_TYPE block below ---------


class SinkType(StrEnum):
    """Where task specs go, in rising order of effect; the ceiling compares by this order."""

    NULL = "null"
    DRY_RUN = "dry_run"
    REST = "rest"

    @property
    def level(self) -> int:
        return SINK_TYPES.index(self.value)


SINK_TYPES = tuple(sink.value for sink in SinkType)


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value must not print the secrets given alongside it.
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", frozen=True, populate_by_name=True, hide_input_in_errors=True
    )

    # --- Temporal -------------------------------------------------------------------
    temporal_address: str | None = Field(
        default=None,
        description="host:port of the Temporal frontend; unset = embedded dev server.",
    )
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    task_queue: str = Field(
        default="activity-core",
        validation_alias="ACTIVITY_CORE_TASK_QUEUE",
        description="Task queue the worker polls and schedules start workflows on.",
    )
    graceful_shutdown_seconds: float = Field(
        default=330.0,
        validation_alias="ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS",
        description="How long SIGTERM lets in-flight activities finish (one llm-connect budget plus margin).",
    )

    # --- PostgreSQL -----------------------------------------------------------------
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql:// DSN for run history; unset = embedded PostgreSQL.",
    )
    db_pool_min_size: int = Field(default=1, validation_alias="ACTIVITY_CORE_DB_POOL_MIN")
    db_pool_max_size: int = Field(default=5, validation_alias="ACTIVITY_CORE_DB_POOL_MAX")
    db_command_timeout_seconds: float = Field(
        default=10.0, validation_alias="ACTIVITY_CORE_DB_TIMEOUT_SECONDS"
    )

    # --- llm-connect ----------------------------------------------------------------
    llm_connect_url: str | None = Field(
        default=None, description="Base URL of llm-connect; unset = local emulator."
    )
    llm_connect_timeout_seconds: float = Field(
        default=300.0, description="Time budget for one POST /execute."
    )

    # --- State Hub ------------------------------------------------------------------
    state_hub_url: str | None = Field(
        default=None, description="Base URL of State Hub; unset = local emulator."
    )
    state_hub_token: SecretStr | None = Field(
        default=None, description="Bearer token for State Hub (never logged)."
    )
    state_hub_timeout_seconds: float = Field(default=15.0)

    # --- Files ----------------------------------------------------------------------
    definitions_dir: Path = Field(
        default=PROJECT_ROOT / "definitions",
        validation_alias="ACTIVITY_CORE_DEFINITIONS_DIR",
    )
    migrations_dir: Path = Field(
        default=PROJECT_ROOT / "migrations",
        validation_alias="ACTIVITY_CORE_MIGRATIONS_DIR",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / ".activity-core",
        validation_alias="ACTIVITY_CORE_DATA_DIR",
        description="Where the embedded stack keeps PostgreSQL data and server logs.",
    )

    # --- Operations -----------------------------------------------------------------
    health_host: str = Field(
        default="0.0.0.0",
        validation_alias="ACTIVITY_CORE_HEALTH_HOST",
        description="IP address of /healthz, /readyz and /metrics: 0.0.0.0 every IPv4 interface, :: every interface.",
    )
    health_port: int = Field(
        default=8081,
        validation_alias="ACTIVITY_CORE_HEALTH_PORT",
        description="Port of /healthz, /readyz and /metrics in the worker (0 = off).",
    )
    log_level: str = Field(default="INFO", validation_alias="ACTIVITY_CORE_LOG_LEVEL")
    log_format: str = Field(
        default="json",
        validation_alias="ACTIVITY_CORE_LOG_FORMAT",
        description="json (one object per line) or text.",
    )
    raw_output_retention_days: int | None = Field(
        default=None,
        validation_alias="ACTIVITY_CORE_RAW_RETENTION_DAYS",
        description="Advisory window for `runs prune`; unset keeps everything.",
    )

    @field_validator("health_host")
    @classmethod
    def _health_host_is_an_ip_address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError(
                f"ACTIVITY_CORE_HEALTH_HOST must be an IP address such as 0.0.0.0, :: or 127.0.0.1, not {value!r}"
            ) from None

    # --- Task emission (issue-core) -------------------------------------------------
    # ISSUE_SINK_TYPE is the deployment's ceiling and rollback switch: a definition's own
    # sink is lowered to it, so `null` stops every request to issue-core at once.
    issue_sink_type: SinkType = Field(
        default=SinkType.NULL,
        description="Ceiling of the task sinks: null (nothing leaves), dry_run (plus the exact request, "
        "logged), rest (definitions that opt in create tasks in issue-core).",
    )
    issue_core_url: str | None = Field(
        default=None, description="Base URL of issue-core; required unless ISSUE_SINK_TYPE is null."
    )
    issue_core_token: SecretStr | None = Field(
        default=None, description="Bearer token for issue-core (never logged); required unless ISSUE_SINK_TYPE is null."
    )
    issue_core_timeout_seconds: float = Field(default=10.0, ge=1, le=120, description="Timeout of one issue-core call.")

    @field_validator("issue_sink_type", mode="before")
    @classmethod
    def _known_sink(cls, value: object) -> object:
        if isinstance(value, str) and value not in SINK_TYPES:
            raise ValueError(f"ISSUE_SINK_TYPE must be one of {', '.join(SINK_TYPES)}, not {value!r}")
        return value

    @model_validator(mode="after")
    def _issue_core_reachable(self) -> Settings:
        if self.issue_sink_type is not SinkType.NULL:
            missing = [
                name
                for name, value in (
                    ("ISSUE_CORE_URL", self.issue_core_url),
                    ("ISSUE_CORE_TOKEN", self.issue_core_token),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"ISSUE_SINK_TYPE={self.issue_sink_type.value} needs {' and '.join(missing)}: "
                    f"set {'them' if len(missing) > 1 else 'it'} (or ISSUE_SINK_TYPE=null to send nothing)"
                )
        return self

    def issue_core_bearer(self) -> str | None:
        return self.issue_core_token.get_secret_value() if self.issue_core_token else None

    def database_dsn(self) -> str | None:
        return self.database_url.get_secret_value() if self.database_url else None

    def state_hub_bearer(self) -> str | None:
        return self.state_hub_token.get_secret_value() if self.state_hub_token else None


def environment_values(names: Iterable[str]) -> dict[str, str | None]:
    """The values of the named variables (None when unset), for the command worker: it is told
    by name which of its variables are secret and blanks their values out of a command's output."""
    return {name: os.environ.get(name) for name in names}
