"""Make the exit-134 race of a Temporal command happen every time, then run a command.

The race (see ``activity_core.commands.temporal_runtime``): a thread of the SDK's Rust core
that completes a call is still inside Python when the interpreter finalizes. Here every
such thread that completes an RPC (its result is bytes) waits inside
``call_soon_threadsafe``, with the GIL released, until the interpreter begins to exit; an
object whose finalizer sleeps then frees the GIL during finalization, so the waiting thread
tries to take it back exactly when it cannot.

    python -m tests.finalization_race default ADDRESS   # the SDK's default runtime, as before the fix
    python -m tests.finalization_race cli ARGS...       # activity_core.cli.main(ARGS)

After ``cli`` it prints ``os threads: N``: the process's threads left once the command is done.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
import threading
import time
from typing import Any

EXITING = threading.Event()
atexit.register(EXITING.set)  # atexit runs just before the interpreter starts finalizing
HOLD_SECONDS = 1.0  # with the fix the runtime's end waits for the held thread at most this long


class CompletionOutlivesTheCommand(asyncio.SelectorEventLoop):
    def call_soon_threadsafe(self, callback: Any, *args: Any, **kwargs: Any) -> asyncio.Handle:
        handle = super().call_soon_threadsafe(callback, *args, **kwargs)
        if threading.current_thread() is not threading.main_thread() and args and isinstance(args[-1], bytes):
            EXITING.wait(HOLD_SECONDS)
        return handle


class Policy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return CompletionOutlivesTheCommand()


class SlowFinalizer:
    def __del__(self) -> None:
        time.sleep(0.3)  # releases the GIL while the interpreter finalizes


slow_finalizer = SlowFinalizer()


async def default_runtime_call(address: str) -> None:
    from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
    from temporalio.client import Client

    client = await Client.connect(address)
    await client.workflow_service.get_system_info(GetSystemInfoRequest())


def main(argv: list[str]) -> int:
    asyncio.set_event_loop_policy(Policy())
    mode, rest = argv[0], argv[1:]
    if mode == "default":
        asyncio.run(default_runtime_call(rest[0]))
        print("called", flush=True)
        return 0
    from activity_core.cli import main as cli_main

    code = cli_main(rest)
    print(f"os threads: {len(os.listdir('/proc/self/task'))}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
