"""The outbox worker: a task of the app's lifespan that delivers what is due.

It wakes when a commit of this process wrote outbox rows (the after-commit consumer) or a row
was retried, and otherwise every `poll_seconds`: for the retries that came due and for rows
written by other server processes. It runs beside the queue, never in front of it: a request
never waits for it, and BPJS being down costs it nothing but its own attempts.
"""

import asyncio
import logging
from contextlib import suppress

from app.after_commit import Commit, Consumer
from app.bpjs.outbox.deliver import Delivery
from app.bpjs.outbox.plan import reported_events
from app.clock import Clock

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
# After a wake-up, how long the worker lets more rows gather before its pass: one pass (two
# short transactions) then carries many rows instead of one each (a second is nothing to BPJS;
# measured, one row a pass cost twice the CPU of rows sent together, docs/benchmarks.md).
GATHER_SECONDS = 1.0


class OutboxWorker:
    def __init__(
        self,
        delivery: Delivery,
        clock: Clock,
        *,
        poll_seconds: float = POLL_SECONDS,
        gather_seconds: float = GATHER_SECONDS,
    ):
        self.delivery = delivery
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.gather_seconds = gather_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Passes run, for tests that wait for the worker to have looked.
        self.passes = 0

    def consumer(self) -> Consumer:
        """After a commit: wake the worker if the commit may have written outbox rows."""

        def on_commit(commit: Commit) -> None:
            if reported_events(commit):
                self.wake()

        return on_commit

    def wake(self) -> None:
        """From the event loop or any thread."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._loop = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.delivery.deliver_due(self.clock())
            except Exception:  # the database away for a moment: the next pass tries again
                log.exception("BPJS outbox delivery pass failed")
            self.passes += 1
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                continue
            await asyncio.sleep(self.gather_seconds)
