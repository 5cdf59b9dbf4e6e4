"""Metrics: our registry, its exposition, and the Temporal SDK's runtime metrics appended."""

from __future__ import annotations

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from activity_core.observability.metrics import (
    LLM_LATENCY_BUCKETS,
    Metrics,
    MetricsExposition,
    free_loopback_address,
    temporal_prometheus_runtime,
)

DEF = "daily-statehub-wsjf-triage"


def samples(text: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    if isinstance(text, bytes):
        text = text.decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: bytes, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def test_runs_items_and_quarantine_are_counted_by_their_labels() -> None:
    metrics = Metrics()
    metrics.observe_run(
        DEF, "partial", items_kept=5, quarantined_by_reason={"schema": 2, "unknown_reference": 1, "none": 0}
    )
    metrics.observe_run(
        DEF, "clean", items_kept=7, quarantined_by_reason={}, duration_seconds=42.0, finished_at=1_750_000_000
    )
    metrics.observe_run(DEF, "failed_llm_timeout")
    text = metrics.render()
    assert value(text, "activity_core_runs_total", definition_id=DEF, status="partial") == 1
    assert value(text, "activity_core_runs_total", definition_id=DEF, status="clean") == 1
    assert value(text, "activity_core_runs_total", definition_id=DEF, status="failed_llm_timeout") == 1
    assert value(text, "activity_core_items_kept_total", definition_id=DEF) == 12
    assert value(text, "activity_core_items_quarantined_total", definition_id=DEF, reason="schema") == 2
    assert value(text, "activity_core_items_quarantined_total", definition_id=DEF, reason="unknown_reference") == 1
    assert value(text, "activity_core_items_quarantined_total", definition_id=DEF, reason="none") is None
    assert value(text, "activity_core_last_run_timestamp_seconds", definition_id=DEF, status="clean") == 1_750_000_000
    assert value(text, "activity_core_run_duration_seconds_count", definition_id=DEF) == 1


def test_llm_latency_buckets_reach_past_the_300_second_budget() -> None:
    assert 300 in LLM_LATENCY_BUCKETS and max(LLM_LATENCY_BUCKETS) > 300
    metrics = Metrics()
    metrics.observe_llm_call(DEF, 12.5, None)
    metrics.observe_llm_call(DEF, 301.0, "failed_llm_timeout")
    metrics.observe_llm_call(DEF, 0.2, "failed_llm_transport")
    text = metrics.render()
    hist = "activity_core_llm_connect_request_duration_seconds"
    assert value(text, f"{hist}_count", definition_id=DEF) == 3
    assert value(text, f"{hist}_bucket", definition_id=DEF, le="300.0") == 2
    assert value(text, f"{hist}_bucket", definition_id=DEF, le="330.0") == 3
    assert (
        value(text, "activity_core_llm_connect_errors_total", definition_id=DEF, error_class="failed_llm_timeout") == 1
    )
    assert (
        value(text, "activity_core_llm_connect_errors_total", definition_id=DEF, error_class="failed_llm_transport")
        == 1
    )


def test_state_hub_failures_by_operation() -> None:
    metrics = Metrics()
    metrics.count_state_hub_failure("post_progress")
    metrics.count_state_hub_failure("post_progress")
    metrics.count_state_hub_failure("write_note", "timeout")
    text = metrics.render()
    assert value(text, "activity_core_state_hub_failures_total", operation="post_progress", error_class="error") == 2
    assert value(text, "activity_core_state_hub_failures_total", operation="write_note", error_class="timeout") == 1


def test_label_values_are_bounded() -> None:
    metrics = Metrics()
    metrics.count_state_hub_failure("post progress!\n" + "x" * 500, "")
    ((_, labels),) = [k for k in samples(metrics.render()) if k[0] == "activity_core_state_hub_failures_total"]
    values = dict(labels)
    assert values["operation"].startswith("post_progress") and len(values["operation"]) <= 64
    assert values["error_class"] == "unknown"


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        Metrics().observe_run(DEF, "clean", items_kept=-1)
    with pytest.raises(ValueError):
        Metrics().observe_run(DEF, "clean", quarantined_by_reason={"schema": -2})


def test_each_instance_has_its_own_registry_and_the_global_one_is_untouched() -> None:
    a, b = Metrics(), Metrics()
    a.observe_run(DEF, "clean", 1)
    assert value(a.render(), "activity_core_runs_total", definition_id=DEF, status="clean") == 1
    assert value(b.render(), "activity_core_runs_total", definition_id=DEF, status="clean") is None
    global_text = prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()
    assert "activity_core_" not in global_text


async def test_exposition_without_temporal_is_ours_only() -> None:
    metrics = Metrics()
    metrics.observe_run(DEF, "clean", 3)
    text = await MetricsExposition(metrics)()
    assert value(text, "activity_core_runs_total", definition_id=DEF, status="clean") == 1


async def test_exposition_appends_the_temporal_sdk_runtime_metrics() -> None:
    temporal = temporal_prometheus_runtime()
    assert temporal.metrics_url == f"http://{temporal.bind_address}/metrics"
    assert temporal.bind_address.startswith("127.0.0.1:")
    # What the SDK records lands on the same exporter as its worker/client metrics.
    counter = temporal.runtime.metric_meter.create_counter("activity_core_test_sdk_probe", "probe")
    counter.add(4, {"source": "sdk"})
    metrics = Metrics()
    metrics.observe_run(DEF, "clean", 2)
    text = await MetricsExposition(metrics, temporal_metrics_url=temporal.metrics_url)()
    parsed = samples(text)  # the concatenation must still be one valid exposition
    assert parsed[("activity_core_runs_total", (("definition_id", DEF), ("status", "clean")))] == 1
    assert parsed[("activity_core_temporal_metrics_up", ())] == 1
    probe = [
        v
        for (name, labels), v in parsed.items()
        if name.startswith("activity_core_test_sdk_probe") and ("source", "sdk") in labels
    ]
    assert probe == [4]


async def test_exposition_survives_an_unreachable_temporal_exporter() -> None:
    metrics = Metrics()
    url = f"http://{free_loopback_address()}/metrics"  # nothing listens there
    text = await MetricsExposition(metrics, temporal_metrics_url=url, timeout_seconds=0.5)()
    assert value(text, "activity_core_temporal_metrics_up") == 0


def test_a_schedules_standing_is_exported_per_definition_and_forgotten_on_request() -> None:
    metrics = Metrics()
    metrics.observe_schedule(
        DEF,
        last_scheduled_run_at=1_750_000_000,
        next_tick_at=1_750_086_400,
        catchup_window_seconds=14_400,
        missed_ticks=1,
    )
    metrics.observe_schedule("probe", next_tick_at=1_750_003_600, catchup_window_seconds=600, missed_ticks=0)
    text = metrics.render()
    assert value(text, "activity_core_last_scheduled_run_timestamp_seconds", definition=DEF) == 1_750_000_000
    assert value(text, "activity_core_schedule_next_tick_timestamp_seconds", definition=DEF) == 1_750_086_400
    assert value(text, "activity_core_schedule_catchup_window_seconds", definition=DEF) == 14_400
    assert value(text, "activity_core_missed_ticks", definition=DEF) == 1
    assert value(text, "activity_core_last_scheduled_run_timestamp_seconds", definition="probe") is None
    assert value(text, "activity_core_schedule_next_tick_timestamp_seconds", definition="probe") == 1_750_003_600

    metrics.forget_schedule(DEF)
    metrics.forget_schedule("never-observed")
    left = {name for (name, labels) in samples(metrics.render()) if ("definition", DEF) in labels}
    assert left == set()
    assert value(metrics.render(), "activity_core_missed_ticks", definition="probe") == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"next_tick_at": 10.0, "catchup_window_seconds": 0, "missed_ticks": 0}, "catchup_window_seconds"),
        ({"next_tick_at": 10.0, "catchup_window_seconds": 60, "missed_ticks": -1}, "missed_ticks"),
        ({"next_tick_at": 10, "catchup_window_seconds": 60, "missed_ticks": 0, "last_scheduled_run_at": 10}, "after"),
    ],
)
def test_a_schedule_that_cannot_be_is_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Metrics().observe_schedule(DEF, **kwargs)


def test_worker_running_follows_the_function_it_is_given() -> None:
    metrics = Metrics()
    assert value(metrics.render(), "activity_core_worker_running") == 0
    running = True
    metrics.worker_running.set_function(lambda: running)
    assert value(metrics.render(), "activity_core_worker_running") == 1
    running = False
    assert value(metrics.render(), "activity_core_worker_running") == 0
