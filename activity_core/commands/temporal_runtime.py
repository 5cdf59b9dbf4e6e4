"""Async work of a command on a Temporal runtime the command owns and ends before the
interpreter ends.

Why: the SDK's Rust core completes every call on one of its own threads, which then enters
Python to hand the result to the event loop (``call_soon_threadsafe``). If the main thread
takes the GIL in that moment, finishes the command and starts finalizing the interpreter,
the core thread can no longer get the GIL back: CPython ends it with ``pthread_exit``, and
the unwinding through Rust releases a thread state that is not current any more, which is
``Fatal Python error: PyGILState_Release ... finalizing`` and exit 134
(temporalio/sdk-python#300). The process-wide default runtime lives until finalization, so
with it the race is always possible, and it shows on a busy machine.

So a command never uses the default runtime: it creates one, and once its work is done
(returned, raised or interrupted) drops every reference to it while the interpreter is
whole. Dropping the core runtime releases the GIL and joins the core's threads, so each of
them has left Python before the interpreter begins to finalize.
"""

from __future__ import annotations

import asyncio
import gc
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from temporalio.runtime import Runtime, TelemetryConfig

R = TypeVar("R")
T = TypeVar("T")


def plain_runtime() -> Runtime:
    """What ``Runtime.default()`` would build, but owned by the caller."""
    return Runtime(telemetry=TelemetryConfig())


def run_on_own_runtime(
    work: Callable[[R], Coroutine[Any, Any, T]],
    make_runtime: Callable[[], R] = plain_runtime,  # type: ignore[assignment]
) -> T:
    """``asyncio.run(work(runtime))`` on a fresh runtime, ended (its threads joined) before returning.

    ``make_runtime`` may return any object that holds the runtime (the worker's carries its
    metrics exporter too). ``work`` must not store it anywhere that outlives the call.
    """
    owned = [make_runtime()]
    try:
        return asyncio.run(work(owned.pop()))
    except BaseException as exc:
        # The traceback's frames still hold the clients (and so the runtime) as locals.
        _clear_frames(exc)
        raise
    finally:
        owned.clear()
        gc.collect()  # clients sit in reference cycles; collecting them drops the last runtime clone


def _clear_frames(exc: BaseException | None, seen: set[int] | None = None) -> None:
    seen = set() if seen is None else seen
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        _clear_frames(exc.__cause__, seen)
        exc = exc.__context__
