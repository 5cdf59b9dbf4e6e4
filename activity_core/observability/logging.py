"""Structured logs: one JSON object per line, run ids on every line, secrets never printed.

Use::

    configure_logging(settings.log_level, settings.log_format)   # once, at process start
    register_settings_secrets(settings)                           # DATABASE_URL, STATE_HUB_TOKEN

    activity.logger.info("posted", extra={"definition_id": ...})  # Temporal adds workflow_id, run_id

A JSON line has ``ts`` (UTC, RFC 3339), ``level``, ``logger``, ``message`` and, when known,
``definition_id``, ``workflow_id``, ``run_id`` at the top level, plus ``workflow_type`` /
``activity_type`` / ``attempt`` for lines logged through Temporal's loggers and any other
``extra=`` fields the caller passed.

Where the run ids come from, first match wins, field by field:

1. ``extra={"definition_id": ..., "workflow_id": ..., "run_id": ...}`` on the call;
2. the ``temporal_activity`` / ``temporal_workflow`` dict that ``temporalio.activity.logger``
   and ``temporalio.workflow.logger`` put on the record (``workflow_id`` and
   ``workflow_run_id`` / ``run_id``).

Redaction happens in the formatter, after the line is built, so it covers the message, every
field, tracebacks and whatever a library logs: each value given to :func:`register_secret`
becomes ``***`` (also in its JSON-escaped form), and fields named like ``prompt`` or
``authorization`` are replaced wholesale, at any depth of a dict passed in ``extra``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import sys
import threading
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from activity_core.settings import Settings

__all__ = [
    "REDACTED",
    "SENSITIVE_FIELD_NAMES",
    "JsonFormatter",
    "TextFormatter",
    "clear_secrets",
    "configure_logging",
    "redact",
    "register_secret",
    "register_settings_secrets",
]

REDACTED = "***"

# Field names whose value is never logged, compared after lower-casing and turning '-' into '_'.
SENSITIVE_FIELD_NAMES = frozenset(
    {
        "prompt",
        "system_prompt",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "api_key",
        "password",
        "token",
        "state_hub_token",
        "database_url",
    }
)

# Shorter values would turn ordinary words into '***'; real secrets are far longer.
_MIN_SECRET_LENGTH = 4

_RUN_FIELDS = ("definition_id", "workflow_id", "run_id")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# Temporal's adapters' own extras, folded into the top-level fields instead of copied raw.
_TEMPORAL_EXTRAS = frozenset({"temporal_activity", "temporal_workflow", "activity_info", "workflow_info"})


# --- secrets ---------------------------------------------------------------------------

_secrets_lock = threading.Lock()
_secrets: tuple[str, ...] = ()  # longest first, so a secret containing another is replaced whole


def register_secret(value: Any) -> None:
    """Never print ``value``: every formatted log line has it replaced by ``***``.

    Accepts a ``str`` or a pydantic ``SecretStr``; ``None``, empty and very short values
    (under 4 characters) are ignored.
    """
    if value is None:
        return
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    value = str(value)
    if len(value) < _MIN_SECRET_LENGTH:
        return
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    global _secrets
    with _secrets_lock:
        merged = set(_secrets) | {f for f in forms if len(f) >= _MIN_SECRET_LENGTH}
        _secrets = tuple(sorted(merged, key=len, reverse=True))


def register_settings_secrets(settings: Settings) -> None:
    """Register every secret the settings hold (``Settings.secret_values``: each secret field,
    found by type, and the DSN's password as written and decoded), and the whole DSN."""
    register_secret(settings.database_dsn())
    for value in settings.secret_values():
        register_secret(value)


def clear_secrets() -> None:
    """Forget every registered secret (for tests)."""
    global _secrets
    with _secrets_lock:
        _secrets = ()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _is_sensitive(key: Any) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in SENSITIVE_FIELD_NAMES


def _scrub(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of ``value`` with sensitive keys blanked at any depth."""
    if depth > 8:
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if _is_sensitive(k) else _scrub(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "get_secret_value"):  # pydantic SecretStr and friends
        return REDACTED
    return str(value)


def _run_fields(record: logging.LogRecord) -> dict[str, Any]:
    """definition_id / workflow_id / run_id (and Temporal's type and attempt) for ``record``."""
    activity = getattr(record, "temporal_activity", None)
    workflow = getattr(record, "temporal_workflow", None)
    activity = activity if isinstance(activity, Mapping) else {}
    workflow = workflow if isinstance(workflow, Mapping) else {}

    def first(*candidates: Any) -> Any:
        for candidate in candidates:
            if candidate not in (None, ""):
                return candidate
        return None

    fields = {
        "definition_id": first(getattr(record, "definition_id", None)),
        "workflow_id": first(
            getattr(record, "workflow_id", None),
            activity.get("workflow_id"),
            workflow.get("workflow_id"),
        ),
        "run_id": first(
            getattr(record, "run_id", None),
            activity.get("workflow_run_id"),
            workflow.get("run_id"),
        ),
        "workflow_type": first(activity.get("workflow_type"), workflow.get("workflow_type")),
        "activity_type": activity.get("activity_type"),
        "attempt": first(activity.get("attempt"), workflow.get("attempt")),
    }
    return {k: v for k, v in fields.items() if v is not None}


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    skip = _RECORD_ATTRS | _TEMPORAL_EXTRAS | set(_RUN_FIELDS)
    return {k: v for k, v in record.__dict__.items() if k not in skip and not k.startswith("_")}


# --- formatters ------------------------------------------------------------------------


def _timestamp(record: logging.LogRecord) -> str:
    ts = _dt.datetime.fromtimestamp(record.created, tz=_dt.UTC)
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_run_fields(record))
        for key, value in _extra_fields(record).items():
            if key in line:
                key = f"extra_{key}"
            line[key] = REDACTED if _is_sensitive(key) else _scrub(value)
        if record.exc_info:
            line["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        scrubbed = {k: (redact(v) if isinstance(v, str) else v) for k, v in line.items()}
        return redact(json.dumps(scrubbed, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the same run ids and the same redaction."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = _run_fields(record)
        extras = {k: (REDACTED if _is_sensitive(k) else _scrub(v)) for k, v in _extra_fields(record).items()}
        context = " ".join(f"{k}={v}" for k, v in {**fields, **extras}.items())
        if context:
            first, sep, rest = text.partition("\n")
            text = f"{first} [{context}]{sep}{rest}"
        return redact(text)


# --- configuration ---------------------------------------------------------------------

_HANDLER_MARK = "_activity_core_handler"


def configure_logging(
    level: str = "INFO",
    fmt: Literal["json", "text"] | str = "json",
    *,
    stream: IO[str] | None = None,
    temporal_info_on_message: bool | None = None,
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines or text.

    Calling it again replaces the handler it installed before (handlers others added stay).
    ``temporal_info_on_message`` sets whether Temporal's loggers also append their info dict
    to the message text; the default is off for JSON (the ids are fields already) and on for
    text. Raises ``ValueError`` for an unknown level or format.
    """
    level_name = str(level).strip().upper()
    numeric = logging.getLevelName(level_name)
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    fmt_name = str(fmt).strip().lower()
    if fmt_name == "json":
        formatter: logging.Formatter = JsonFormatter()
    elif fmt_name == "text":
        formatter = TextFormatter()
    else:
        raise ValueError(f"unknown log format {fmt!r}; use 'json' or 'text'")

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_MARK, False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)

    info_on_message = (fmt_name == "text") if temporal_info_on_message is None else temporal_info_on_message
    _set_temporal_info_on_message(info_on_message)
    return handler


def _set_temporal_info_on_message(enabled: bool) -> None:
    try:
        from temporalio import activity, workflow
    except ImportError:  # pragma: no cover - temporalio is a dependency
        return
    activity.logger.activity_info_on_message = enabled
    workflow.logger.workflow_info_on_message = enabled
