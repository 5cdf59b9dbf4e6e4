"""Operating activity-core: structured logs, Prometheus metrics, the health listener.

- :mod:`.logging`: ``configure_logging``,
  ``register_secret`` / ``register_settings_secrets`` (redaction of every log line).
- :mod:`.metrics`: ``Metrics`` (own ``CollectorRegistry``), ``temporal_prometheus_runtime``
  and ``MetricsExposition`` (ours plus the Temporal SDK's runtime metrics in one text).
- :mod:`.health`: ``HealthServer`` (``/healthz``, ``/readyz``, ``/metrics``), ``run_checks``.
"""

from activity_core.observability.health import CheckResult, HealthServer, HealthStatus, run_checks
from activity_core.observability.logging import (
    clear_secrets,
    configure_logging,
    redact,
    register_secret,
    register_settings_secrets,
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
    "clear_secrets",
    "configure_logging",
    "redact",
    "register_secret",
    "register_settings_secrets",
    "run_checks",
    "temporal_prometheus_runtime",
]
