"""The one place activity-core reads its environment.

Every knob is a field here, documented in the README with its default. Nothing else in
the package calls ``os.environ``: code takes a ``Settings`` (or the values it needs) as a
parameter, so tests and the local stack can build their own without touching the process
environment.

An unset service address (``TEMPORAL_ADDRESS``, ``DATABASE_URL``, ``LLM_CONNECT_URL``,
``STATE_HUB_URL``) means "embedded": ``activity-core run`` starts a local one. The worker
in a cluster requires them all. An empty variable counts as unset.

Every value is checked when the settings are read, so a bad one is refused at start with
its name, its value and what is allowed (``load_settings``), instead of failing later as
something else. A field states what it allows by its type: the annotated types below carry
both the constraint and an ``Allowed`` text for that message, so a field added later with
one of them is checked and explained the same way.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Allowed:
    """What a setting accepts, in the words of the refusal an operator reads."""

    text: str


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("not an http(s) URL")
    parts.port  # noqa: B018 - raises ValueError for a port out of range
    return value


def _postgres_url(value: SecretStr) -> SecretStr:
    if urlsplit(value.get_secret_value()).scheme not in ("postgresql", "postgres"):
        raise ValueError("not a postgresql:// URL")
    return value


_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?):(\d{1,5})")


def _host_port(value: str) -> str:
    match = _HOST_PORT.fullmatch(value)
    if not match or not 1 <= int(match.group(1)) <= 65535:
        raise ValueError("not host:port")
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False), Allowed("a number of seconds greater than 0")]
PoolSize = Annotated[int, Field(ge=1, le=1000), Allowed("a whole number from 1 to 1000")]
Port = Annotated[int, Field(ge=0, le=65535), Allowed("a port number from 0 to 65535 (0 = off)")]
Days = Annotated[int, Field(ge=1), Allowed("a whole number of days, 1 or more (or unset)")]
HttpUrl = Annotated[str, AfterValidator(_http_url), Allowed("an http:// or https:// URL with a host")]
HostPort = Annotated[str, AfterValidator(_host_port), Allowed("host:port, e.g. temporal-frontend:7233")]
PostgresUrl = Annotated[SecretStr, AfterValidator(_postgres_url), Allowed("a postgresql:// URL")]
Name = Annotated[str, Field(min_length=1, pattern=r"^\S+$"), Allowed("a non-empty name without spaces")]
Secret = Annotated[SecretStr, Field(min_length=1), Allowed("a non-empty value")]
LogLevel = Annotated[Literal[LOG_LEVELS], BeforeValidator(_upper), Allowed(f"one of {', '.join(LOG_LEVELS)}")]  # type: ignore[valid-type]
LogFormat = Annotated[Literal["json", "text"], BeforeValidator(_lower), Allowed("json or text")]


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
    model_config = SettingsConfigDict(
        env_prefix="",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # --- Temporal -------------------------------------------------------------------
    temporal_address: HostPort | None = Field(
        default=None,
        description="host:port of the Temporal frontend; unset = embedded dev server.",
    )
    temporal_namespace: Name = Field(default="default", description="Temporal namespace.")
    task_queue: Name = Field(
        default="activity-core",
        validation_alias="ACTIVITY_CORE_TASK_QUEUE",
        description="Task queue the worker polls and schedules start workflows on.",
    )
    graceful_shutdown_seconds: Seconds = Field(
        default=330.0,
        validation_alias="ACTIVITY_CORE_GRACEFUL_SHUTDOWN_SECONDS",
        description="How long SIGTERM lets in-flight activities finish (one llm-connect budget plus margin).",
    )

    # --- PostgreSQL -----------------------------------------------------------------
    database_url: PostgresUrl | None = Field(
        default=None,
        description="postgresql:// DSN for run history; unset = embedded PostgreSQL.",
    )
    db_pool_min_size: PoolSize = Field(default=1, validation_alias="ACTIVITY_CORE_DB_POOL_MIN")
    db_pool_max_size: PoolSize = Field(default=5, validation_alias="ACTIVITY_CORE_DB_POOL_MAX")
    db_command_timeout_seconds: Seconds = Field(default=10.0, validation_alias="ACTIVITY_CORE_DB_TIMEOUT_SECONDS")

    # --- llm-connect ----------------------------------------------------------------
    llm_connect_url: HttpUrl | None = Field(
        default=None, description="Base URL of llm-connect; unset = local emulator."
    )
    llm_connect_timeout_seconds: Seconds = Field(
        default=300.0, description="Time budget for one POST /execute, end to end."
    )

    # --- State Hub ------------------------------------------------------------------
    state_hub_url: HttpUrl | None = Field(default=None, description="Base URL of State Hub; unset = local emulator.")
    state_hub_token: Secret | None = Field(default=None, description="Bearer token for State Hub (never logged).")
    state_hub_timeout_seconds: Seconds = Field(
        default=15.0, description="Time budget for one State Hub call, end to end."
    )

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
    health_port: Port = Field(
        default=8081,
        validation_alias="ACTIVITY_CORE_HEALTH_PORT",
        description="Port of /healthz, /readyz and /metrics in the worker (0 = off).",
    )
    log_level: LogLevel = Field(default="INFO", validation_alias="ACTIVITY_CORE_LOG_LEVEL")
    log_format: LogFormat = Field(
        default="json",
        validation_alias="ACTIVITY_CORE_LOG_FORMAT",
        description="json (one object per line) or text.",
    )
    raw_output_retention_days: Days | None = Field(
        default=None,
        validation_alias="ACTIVITY_CORE_RAW_RETENTION_DAYS",
        description="Advisory window for `runs prune`; unset keeps everything.",
    )

    @model_validator(mode="after")
    def _pool_bounds_in_order(self) -> Settings:
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError(
                f"ACTIVITY_CORE_DB_POOL_MIN={self.db_pool_min_size} is larger than "
                f"ACTIVITY_CORE_DB_POOL_MAX={self.db_pool_max_size}; the minimum must not exceed the maximum"
            )
        return self

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
    issue_sink_type: Annotated[SinkType, Allowed(f"one of {', '.join(SINK_TYPES)}")] = Field(
        default=SinkType.NULL,
        description="Ceiling of the task sinks: null (nothing leaves), dry_run (plus the exact request, "
        "logged), rest (definitions that opt in create tasks in issue-core).",
    )
    issue_core_url: HttpUrl | None = Field(
        default=None, description="Base URL of issue-core; required unless ISSUE_SINK_TYPE is null."
    )
    issue_core_token: SecretStr | None = Field(
        default=None, description="Bearer token for issue-core (never logged); required unless ISSUE_SINK_TYPE is null."
    )
    issue_core_timeout_seconds: Seconds = Field(
        default=10.0, ge=1, le=120, description="Timeout of one issue-core call."
    )

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

    def secret_values(self) -> tuple[str, ...]:
        """Every secret value configured, longest first (so one containing another is replaced whole).

        Every ``SecretStr`` field is found by its value's type, so a secret added later is
        included without touching this method; the password inside ``DATABASE_URL`` is added
        as written and percent-decoded, since either form may be echoed back.
        """
        found: set[str] = set()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.add(value.get_secret_value())
        dsn = self.database_dsn()
        if dsn:
            try:
                password = urlsplit(dsn).password
            except ValueError:
                password = None
            if password:
                found |= {password, unquote(password)}
        return tuple(sorted(found, key=lambda s: (-len(s), s)))


def env_name(field: str) -> str:
    """The environment variable a field is read from."""
    info = Settings.model_fields[field]
    return str(info.validation_alias or field).upper()


class SettingsError(ValueError):
    """The environment holds a value a setting does not allow; the message is one line that
    names each bad variable, its value (never a secret's) and what is allowed."""


def load_settings() -> Settings:
    """The settings from the environment, or ``SettingsError`` saying which value to fix."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None


def describe_settings_error(exc: ValidationError) -> str:
    by_variable: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        if field not in Settings.model_fields:
            field = next((n for n in Settings.model_fields if env_name(n).lower() == field.lower()), field)
        if field not in Settings.model_fields:  # a check across fields: its message names them
            by_variable.setdefault(field, str(error["msg"]).removeprefix("Value error, "))
            continue
        name = env_name(field)
        by_variable.setdefault(
            name, f"{name}={_shown(field, error.get('input'))} is not allowed: {_allowed(field, error)}"
        )
    return "; ".join(by_variable.values())


def _shown(field: str, value: Any) -> str:
    if _is_secret(field):
        return "(hidden: a secret)"
    text = value if isinstance(value, str) else repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return repr(text) if not text or any(not c.isprintable() or c.isspace() for c in text) else text


def _allowed(field: str, error: Any) -> str:
    markers = [m for m in _metadata(Settings.model_fields[field].annotation) if isinstance(m, Allowed)]
    markers += [m for m in Settings.model_fields[field].metadata if isinstance(m, Allowed)]
    return markers[0].text if markers else str(error["msg"]).removeprefix("Value error, ")


def _is_secret(field: str) -> bool:
    annotation = Settings.model_fields[field].annotation
    return annotation is SecretStr or SecretStr in _metadata(annotation)


def _metadata(annotation: Any) -> list[Any]:
    """Every type and ``Annotated`` marker inside ``annotation`` (``Seconds | None`` included)."""
    found: list[Any] = []
    for part in get_args(annotation):
        found.append(part)
        found += _metadata(part)
    if hasattr(annotation, "__metadata__"):
        found += list(annotation.__metadata__)
    return found


def environment_values(names: Iterable[str]) -> dict[str, str | None]:
    """The values of the named variables (None when unset), for the command worker: it is told
    by name which of its variables are secret and blanks their values out of a command's output."""
    return {name: os.environ.get(name) for name in names}
