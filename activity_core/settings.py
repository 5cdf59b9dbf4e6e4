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

import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, populate_by_name=True)

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
    issue_sink_type: str = Field(
        default="null",
        description="Where task specs would go; only the audit-only 'null' sink exists today.",
    )
    raw_output_retention_days: int | None = Field(
        default=None,
        validation_alias="ACTIVITY_CORE_RAW_RETENTION_DAYS",
        description="Advisory window for `runs prune`; unset keeps everything.",
    )

    def database_dsn(self) -> str | None:
        return self.database_url.get_secret_value() if self.database_url else None

    def state_hub_bearer(self) -> str | None:
        return self.state_hub_token.get_secret_value() if self.state_hub_token else None


def environment_values(names: Iterable[str]) -> dict[str, str | None]:
    """The values of the named variables (None when unset), for the command worker: it is told
    by name which of its variables are secret and blanks their values out of a command's output."""
    return {name: os.environ.get(name) for name in names}
