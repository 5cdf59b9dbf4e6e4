"""What the triage costs beyond Temporal's own orchestration, measured side by side.

50 triage runs on the local stack (embedded Temporal and PostgreSQL, the emulators answering
instantly) against 50 runs of a bare workflow with the same number of no-op activities, in
one process and one worker, interleaved so machine noise hits both alike. Goal: the triage
within 1.5x of the bare workflow. It also prints the Temporal history bytes of one triage run
next to the superseded InstructionWorkflow's and the answer's own size: the answer stays in
PostgreSQL, so it should not show in the history at all.

    .venv/bin/python benchmarks/run_overhead.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bare_workflow import STEPS, BareWorkflow, no_op  # a module of its own: the sandbox re-imports it
from temporalio.worker import Worker

from activity_core.devstack.stack import local_stack
from activity_core.kinds.instruction.legacy.models import InstructionInput
from activity_core.kinds.instruction.legacy.workflow import InstructionWorkflow
from activity_core.kinds.instruction.workflow import InstructionRun
from activity_core.kinds.registry import registered_activities, registered_workflows
from activity_core.observability.metrics import Metrics
from activity_core.runs.models import RunInput
from activity_core.settings import Settings
from activity_core.store.migrations import apply_migrations
from activity_core.temporal.worker import connect_temporal, open_services


async def _timed(coro) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


async def main(runs: int) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="ac-bench-"))
    settings = Settings(data_dir=data_dir, task_queue=f"bench-{uuid.uuid4().hex[:6]}")
    print(f"starting the local stack in {data_dir} ...", file=sys.stderr)
    with local_stack(settings, lambda m: print(m, file=sys.stderr), persistent=False) as endpoints:
        client = await connect_temporal(endpoints.temporal_address, settings.temporal_namespace)
        async with open_services(settings, endpoints, Metrics()) as deps:
            await apply_migrations(deps.runs.pool, settings.migrations_dir)
            worker = Worker(
                client,
                task_queue=settings.task_queue,
                workflows=[*registered_workflows(), BareWorkflow],
                activities=[*registered_activities(deps), no_op],
            )
            async with worker:

                async def triage() -> None:
                    summary = await client.execute_workflow(
                        InstructionRun.run,
                        RunInput(definition_id="daily-statehub-wsjf-triage"),
                        id=f"bench-triage-{uuid.uuid4().hex}",
                        task_queue=settings.task_queue,
                    )
                    assert summary.status == "clean", summary

                async def bare() -> None:
                    await client.execute_workflow(
                        BareWorkflow.run, STEPS, id=f"bench-bare-{uuid.uuid4().hex}", task_queue=settings.task_queue
                    )

                for warm in (triage, bare):  # first runs pay imports and connection set-up
                    await warm()
                sizes = await _history_bytes(client, settings.task_queue, deps)
                triage_times, bare_times = [], []
                for _ in range(runs):
                    triage_times.append(await _timed(triage()))
                    bare_times.append(await _timed(bare()))

    t_med, b_med = statistics.median(triage_times), statistics.median(bare_times)
    t_mean, b_mean = statistics.fmean(triage_times), statistics.fmean(bare_times)
    print(f"runs each: {runs} (interleaved), activities per run: {STEPS}")
    print(f"bare workflow   median {b_med * 1000:7.1f} ms   mean {b_mean * 1000:7.1f} ms")
    print(f"triage workflow median {t_med * 1000:7.1f} ms   mean {t_mean * 1000:7.1f} ms")
    print(
        f"history bytes per run: InstructionRun {sizes['new']:,}, InstructionWorkflow (superseded) {sizes['old']:,}; "
        f"the answer itself {sizes['answer']:,} bytes"
    )
    ratio = t_med / b_med
    print(
        f"ratio triage/bare: median {ratio:.2f}x, mean {t_mean / b_mean:.2f}x (goal <= 1.5x): {'met' if ratio <= 1.5 else 'NOT met'}"
    )
    return 0


async def _history_bytes(client, task_queue: str, deps) -> dict[str, int]:  # type: ignore[no-untyped-def]
    new = await client.start_workflow(
        InstructionRun.run,
        RunInput(definition_id="daily-statehub-wsjf-triage"),
        id=f"bench-size-{uuid.uuid4().hex}",
        task_queue=task_queue,
    )
    await new.result()
    old = await client.start_workflow(
        InstructionWorkflow.run,
        InstructionInput(definition_id="daily-statehub-wsjf-triage"),
        id=f"bench-size-old-{uuid.uuid4().hex}",
        task_queue=task_queue,
    )
    await old.result()
    record = await deps.runs.get_run(new.id)
    return {
        "new": len((await new.fetch_history()).to_json()),
        "old": len((await old.fetch_history()).to_json()),
        "answer": len((record.raw_content or "").encode()),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    raise SystemExit(asyncio.run(main(parser.parse_args().runs)))
