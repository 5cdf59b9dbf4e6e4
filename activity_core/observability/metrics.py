"""activity-core's Prometheus metrics, and the Temporal SDK's own, in one ``/metrics`` text.

Our metrics live on a ``CollectorRegistry`` owned by a :class:`Metrics` instance: nothing is
registered on prometheus_client's global registry, so tests and several workers in one
process never collide. Every name starts with ``activity_core_``.

The Temporal SDK's runtime metrics (poll counts, task latencies, slots, sticky cache...) are
exported by its Rust core. :func:`temporal_prometheus_runtime` builds a
``temporalio.runtime.Runtime`` whose Prometheus exporter listens on a loopback-only port;
:class:`MetricsExposition` renders our registry and appends that text, so one scrape of the
health port returns both. Wiring in the worker::

    temporal = temporal_prometheus_runtime()              # before Client.connect
    client = await Client.connect(addr, namespace=ns, runtime=temporal.runtime)
    metrics = Metrics()
    exposition = MetricsExposition(metrics, temporal_metrics_url=temporal.metrics_url)
    health = HealthServer("0.0.0.0", settings.health_port, liveness=..., readiness=...,
                          metrics_text=exposition)

(The SDK's own exporter on ``127.0.0.1`` is never reachable from outside the pod; the
NetworkPolicy only admits the health port.)
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from activity_core.clients.prometheus import scrape

__all__ = [
    "CONTENT_TYPE",
    "LLM_LATENCY_BUCKETS",
    "Metrics",
    "MetricsExposition",
    "TemporalMetricsRuntime",
    "free_loopback_address",
    "temporal_prometheus_runtime",
]

# The Prometheus text exposition format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# llm-connect calls have a 300 s budget (LLM_CONNECT_TIMEOUT_SECONDS): buckets resolve the
# usual 5-120 s range and keep going past the budget so that a timeout is visible as such.
LLM_LATENCY_BUCKETS: tuple[float, ...] = (
    1,
    2.5,
    5,
    10,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    240,
    300,
    330,
    360,
    450,
    600,
)
RUN_DURATION_BUCKETS: tuple[float, ...] = (5, 15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800)

_LABEL_VALUE = re.compile(r"[^a-zA-Z0-9_.:-]+")


def _label(value: Any, *, fallback: str = "unknown", limit: int = 64) -> str:
    """A bounded, printable label value: label values come from code, not from model output,
    but a stray exception message must not mint one time series per request."""
    text = _LABEL_VALUE.sub("_", str(value if value is not None else "")).strip("_")[:limit]
    return text or fallback


class Metrics:
    """The counters and histograms activity-core records, on its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter(
            "activity_core_runs",
            "Finished runs by definition and final status (clean, partial, failed_*).",
            ["definition_id", "status"],
            registry=r,
        )
        self.run_duration = Histogram(
            "activity_core_run_duration_seconds",
            "Wall time of a run, from start to recorded finish.",
            ["definition_id"],
            buckets=RUN_DURATION_BUCKETS,
            registry=r,
        )
        self.last_run = Gauge(
            "activity_core_last_run_timestamp_seconds",
            "Unix time at which the last run of a definition finished, by status.",
            ["definition_id", "status"],
            registry=r,
        )
        self.items_kept = Counter(
            "activity_core_items_kept",
            "Report items that passed the boundary and were kept.",
            ["definition_id"],
            registry=r,
        )
        self.items_quarantined = Counter(
            "activity_core_items_quarantined",
            "Report items the boundary quarantined, by reason.",
            ["definition_id", "reason"],
            registry=r,
        )
        self.llm_latency = Histogram(
            "activity_core_llm_connect_request_duration_seconds",
            "Latency of POST /execute to llm-connect, successful or not.",
            ["definition_id"],
            buckets=LLM_LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_errors = Counter(
            "activity_core_llm_connect_errors",
            "Failed llm-connect calls by error class (transport, timeout, provider, config...).",
            ["definition_id", "error_class"],
            registry=r,
        )
        self.state_hub_failures = Counter(
            "activity_core_state_hub_failures",
            "Failed State Hub calls by operation (post_progress, write_note, read_*) and error class.",
            ["operation", "error_class"],
            registry=r,
        )
        # The schedule's health, for the alerting rules in k8s/railiance/prometheus/: a tick
        # that has not run once its catch-up window is over never will (Temporal skips it).
        # Exported only for schedules that should fire: forget_schedule() on a pause.
        self.last_scheduled_run = Gauge(
            "activity_core_last_scheduled_run_timestamp_seconds",
            "Unix time of the cron tick of the last run the schedule fired (the tick, not the start).",
            ["definition"],
            registry=r,
        )
        self.next_scheduled_tick = Gauge(
            "activity_core_schedule_next_tick_timestamp_seconds",
            "Unix time of the first tick after the last scheduled run: the one due next.",
            ["definition"],
            registry=r,
        )
        self.schedule_catchup_window = Gauge(
            "activity_core_schedule_catchup_window_seconds",
            "How late Temporal still fires a tick (the definition's catchup_window_seconds).",
            ["definition"],
            registry=r,
        )
        self.missed_ticks = Gauge(
            "activity_core_missed_ticks",
            "Ticks in the recent history that have no scheduled run.",
            ["definition"],
            registry=r,
        )
        self.worker_running = Gauge(
            "activity_core_worker_running",
            "1 while this process's Temporal worker runs (what /healthz checks), else 0.",
            registry=r,
        )
        self.temporal_metrics_up = Gauge(
            "activity_core_temporal_metrics_up",
            "1 when the Temporal SDK's metrics were appended to this scrape, 0 when fetching them failed.",
            registry=r,
        )

    # --- recording ---------------------------------------------------------------------

    def observe_run(
        self,
        definition_id: str,
        status: str,
        items_kept: int = 0,
        quarantined_by_reason: Mapping[str, int] | None = None,
        *,
        duration_seconds: float | None = None,
        finished_at: float | None = None,
    ) -> None:
        """Record one finished run: its status, the items kept and quarantined (by reason)."""
        definition = _label(definition_id)
        status_label = _label(status)
        self.runs.labels(definition, status_label).inc()
        self.last_run.labels(definition, status_label).set(finished_at if finished_at is not None else time.time())
        if items_kept < 0:
            raise ValueError("items_kept must not be negative")
        self.items_kept.labels(definition).inc(items_kept)
        for reason, count in (quarantined_by_reason or {}).items():
            if count < 0:
                raise ValueError(f"quarantine count for {reason!r} must not be negative")
            if count:
                self.items_quarantined.labels(definition, _label(reason)).inc(count)
        if duration_seconds is not None:
            self.run_duration.labels(definition).observe(duration_seconds)

    def observe_llm_call(self, definition_id: str, latency_seconds: float, error_class: str | None = None) -> None:
        """Record one llm-connect call; ``error_class`` is ``None`` for a success."""
        definition = _label(definition_id)
        self.llm_latency.labels(definition).observe(max(0.0, latency_seconds))
        if error_class is not None:
            self.llm_errors.labels(definition, _label(error_class)).inc()

    def count_state_hub_failure(self, operation: str, error_class: str = "error") -> None:
        """Record a failed State Hub call (``operation`` like ``post_progress``, ``write_note``)."""
        self.state_hub_failures.labels(_label(operation), _label(error_class)).inc()

    def observe_schedule(
        self,
        definition_id: str,
        *,
        next_tick_at: float,
        catchup_window_seconds: float,
        missed_ticks: int,
        last_scheduled_run_at: float | None = None,
    ) -> None:
        """Record where a definition's schedule stands; times are Unix seconds.

        ``next_tick_at`` is the first tick after ``last_scheduled_run_at`` (or, before any
        scheduled run, the first tick after the schedule was created): the alert fires once
        ``time()`` is past it by more than ``catchup_window_seconds``.
        """
        if catchup_window_seconds <= 0:
            raise ValueError("catchup_window_seconds must be positive")
        if missed_ticks < 0:
            raise ValueError("missed_ticks must not be negative")
        if last_scheduled_run_at is not None and next_tick_at <= last_scheduled_run_at:
            raise ValueError("next_tick_at must come after last_scheduled_run_at")
        definition = _label(definition_id)
        self.next_scheduled_tick.labels(definition).set(next_tick_at)
        self.schedule_catchup_window.labels(definition).set(catchup_window_seconds)
        self.missed_ticks.labels(definition).set(missed_ticks)
        if last_scheduled_run_at is not None:
            self.last_scheduled_run.labels(definition).set(last_scheduled_run_at)

    def forget_schedule(self, definition_id: str) -> None:
        """Stop exporting a schedule that should not fire (paused, disabled, deleted)."""
        definition = _label(definition_id)
        schedule = (self.last_scheduled_run, self.next_scheduled_tick, self.schedule_catchup_window, self.missed_ticks)
        for gauge in schedule:
            with contextlib.suppress(KeyError):
                gauge.remove(definition)

    # --- exposition --------------------------------------------------------------------

    def render(self) -> bytes:
        """This registry in the Prometheus text format (0.0.4)."""
        return generate_latest(self.registry)


# --- the Temporal SDK's runtime metrics ------------------------------------------------


@dataclass(frozen=True)
class TemporalMetricsRuntime:
    runtime: Any  # temporalio.runtime.Runtime: pass it to Client.connect(runtime=...)
    bind_address: str
    metrics_url: str


def free_loopback_address() -> str:
    """``127.0.0.1:<port>`` with a port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def temporal_prometheus_runtime(
    bind_address: str | None = None, *, durations_as_seconds: bool = True
) -> TemporalMetricsRuntime:
    """A Temporal ``Runtime`` exporting the SDK's metrics on ``bind_address`` (loopback).

    Without ``bind_address`` a free loopback port is picked. Create it once per process,
    before the client; the exporter starts with the runtime.
    """
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    address = bind_address or free_loopback_address()
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=address, durations_as_seconds=durations_as_seconds)
        )
    )
    return TemporalMetricsRuntime(runtime=runtime, bind_address=address, metrics_url=f"http://{address}/metrics")


class MetricsExposition:
    """The body of ``/metrics``: our registry, then the Temporal SDK's text if configured.

    An instance is an async callable returning bytes, as ``HealthServer(metrics_text=...)``
    expects. When the SDK's exporter does not answer, our metrics are still served and
    ``activity_core_temporal_metrics_up`` is 0.
    """

    def __init__(
        self,
        metrics: Metrics,
        *,
        temporal_metrics_url: str | None = None,
        timeout_seconds: float = 2.0,
    ) -> None:
        self.metrics = metrics
        self.temporal_metrics_url = temporal_metrics_url
        self.timeout_seconds = timeout_seconds

    async def __call__(self) -> bytes:
        temporal: bytes | None = b""
        if self.temporal_metrics_url:
            temporal = await self._fetch_temporal()
            self.metrics.temporal_metrics_up.set(1 if temporal is not None else 0)
        ours = self.metrics.render()
        if not temporal:
            return ours
        if not ours.endswith(b"\n"):
            ours += b"\n"
        return ours + temporal if temporal.endswith(b"\n") else ours + temporal + b"\n"

    async def _fetch_temporal(self) -> bytes | None:
        assert self.temporal_metrics_url
        return await scrape(self.temporal_metrics_url, timeout_seconds=self.timeout_seconds)
