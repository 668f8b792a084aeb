"""A second asyncio loop, in a thread of its own, for the dashboard's Kafka work.

aiokafka decodes every answer on the loop that owns the connection, and the engine turns answers
into value types there too: on a cluster with 10,000 partitions one Metadata or ListOffsets answer
is a few hundred milliseconds of Python. On the UI's loop that would be a frozen screen; here it
only shares the interpreter with the UI, which gets its turn every few milliseconds.

Workers on the App await ``run(coro)``: cancelling the worker cancels the engine task, and ``run``
returns only after the task's own clean-up (flushes, checkpoints) has finished, so a job shown as
cancelled has left its resumable state on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CLEAN_UP_SECONDS = 30.0  # how long a cancelled task may take to leave a resumable state


class EngineThread:
    def __init__(self, name: str = "ksre-engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[Any]] = set()  # what run() started: touched on the engine loop only
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the engine's loop and wait for it from the caller's loop."""
        ui_loop = asyncio.get_running_loop()
        result: asyncio.Future[T] = ui_loop.create_future()
        started: list[asyncio.Task[T]] = []

        def deliver(task: asyncio.Task[T]) -> None:
            if result.done():
                return
            if task.cancelled():
                result.cancel()
            elif (error := task.exception()) is not None:
                result.set_exception(error)
            else:
                result.set_result(task.result())

        def finished(task: asyncio.Task[T]) -> None:
            self._tasks.discard(task)
            if not ui_loop.is_closed():
                ui_loop.call_soon_threadsafe(deliver, task)

        def start() -> None:
            task = self.loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(finished)
            started.append(task)

        self.loop.call_soon_threadsafe(start)
        try:
            return await asyncio.shield(result)
        except asyncio.CancelledError:
            # callbacks run in order: start() has run before this cancel does
            self.loop.call_soon_threadsafe(lambda: started[0].cancel())
            await _wait_through_cancels(result, CLEAN_UP_SECONDS)
            if result.done() and not result.cancelled():
                result.exception()  # retrieved: the caller was cancelled, the outcome no longer matters
            raise

    def stop(self, timeout: float = CLEAN_UP_SECONDS) -> None:
        """Cancel the work still running, let it clean up (a task already cancelling is not cancelled
        again: that would cut its checkpoint short), then end the thread."""
        if not self._thread.is_alive():
            return

        async def wind_down() -> None:
            mine = list(self._tasks)
            for task in mine:
                if not task.cancelling():
                    task.cancel()
            if mine:
                await asyncio.wait(mine, timeout=timeout)
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:  # the clients' own background tasks
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(wind_down(), self.loop).result(timeout + 5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


async def _wait_through_cancels(future: asyncio.Future[Any], seconds: float) -> None:
    """Wait for ``future`` up to ``seconds`` even if cancelled again meanwhile (a second
    press of the cancel key must not mark a job cancelled before its checkpoint is written)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not future.done():
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return
        try:
            await asyncio.wait({future}, timeout=left)
        except asyncio.CancelledError:
            continue
