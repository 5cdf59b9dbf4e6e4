"""Operating activity-core: structured logs, Prometheus metrics, the health listener.

- :mod:`.logging`: ``configure_logging``, ``bind_run_context`` / ``run_context``,
  ``register_secret`` / ``register_settings_secrets`` (redaction of every log line).
- :mod:`.metrics`: ``Metrics`` (own ``CollectorRegistry``), ``temporal_prometheus_runtime``
  and ``MetricsExposition`` (ours plus the Temporal SDK's runtime metrics in one text).
- :mod:`.health`: ``HealthServer`` (``/healthz``, ``/readyz``, ``/metrics``), ``run_checks``.
"""

from activity_core.observability.health import CheckResult, HealthServer, HealthStatus, run_checks
from activity_core.observability.logging import (
    bind_run_context,
    clear_secrets,
    configure_logging,
    redact,
    register_secret,
    register_settings_secrets,
    reset_run_context,
    run_context,
)
from activity_core.observability.metrics import (
    Metrics,
    MetricsExposition,
    TemporalMetricsRuntime,
    temporal_prometheus_runtime,
)

__all__ = [
    "CheckResult",
    "HealthServer",
    "HealthStatus",
    "Metrics",
    "MetricsExposition",
    "TemporalMetricsRuntime",
    "bind_run_context",
    "clear_secrets",
    "configure_logging",
    "redact",
    "register_secret",
    "register_settings_secrets",
    "reset_run_context",
    "run_context",
    "run_checks",
    "temporal_prometheus_runtime",
]
