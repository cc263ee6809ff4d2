"""The hub: one per process. Takes messages from the backend, puts each clinic's messages in
`seq` order (filling gaps from the database), and fans them out to local subscribers through
bounded queues, so one slow socket never holds up the others.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from app.realtime.backends import Backend

log = logging.getLogger(__name__)

Message = dict[str, Any]
# (clinic_id, first_seq, last_seq) -> the committed messages in that range, from the database
FetchEvents = Callable[[int, int, int], Awaitable[list[Message]]]
# clinic ids -> their latest committed seq
CurrentSeqs = Callable[[list[int]], Awaitable[dict[int, int]]]
# A message for the process rather than a clinic's sockets (see `NOTICE_TYPES`)
Notice = Callable[[Message], None]

# Messages the process itself must hear, through `on_notice`: `accounts.changed` (the ids of
# accounts and devices whose sign-in changed, for no socket) and `clinic.changed` (a clinic's
# setup changed; also for its sockets). See app/directory/.
ACCOUNTS_CHANGED = "accounts.changed"
CLINIC_CHANGED = "clinic.changed"
NOTICE_TYPES = frozenset({ACCOUNTS_CHANGED, CLINIC_CHANGED})

# How long an out-of-order message waits for the one before it (two publishers racing)
# before the missing ones are read from the database.
GAP_WAIT_SECONDS = 0.2
GAP_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class Frame:
    """A message and its JSON text, serialised once for all the sockets that get it."""

    seq: int | None  # None: not part of the clinic's sequence (keep-alive, end of feed)
    message: Message
    text: str

    @classmethod
    def of(cls, message: Message) -> "Frame":
        return cls(message.get("seq"), message, json.dumps(message, separators=(",", ":")))


PING = Frame.of({"type": "ping"})
CLOSED = Frame(None, {"type": "closed"}, "")


class FrameQueue:
    """A bounded FIFO with one waiting reader: asyncio.Queue's job for a tenth of its memory
    (it is kept once per socket, ten thousand times in a process)."""

    __slots__ = ("_frames", "_maxsize", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._frames: deque[Frame] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, frame: Frame) -> None:
        if len(self._frames) >= self._maxsize:
            raise asyncio.QueueFull
        self._frames.append(frame)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def get_nowait(self) -> Frame:
        if not self._frames:
            raise asyncio.QueueEmpty
        return self._frames.popleft()

    async def get(self) -> Frame:
        while not self._frames:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._frames.popleft()

    def empty(self) -> bool:
        return not self._frames

    def seqs(self) -> set[int | None]:
        return {frame.seq for frame in self._frames}

    def prepend(self, frames: list[Frame]) -> None:
        """Put frames ahead of those queued (beyond the bound: they were owed already)."""
        self._frames.extendleft(reversed(frames))
        if frames and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def qsize(self) -> int:
        return len(self._frames)


class Subscriber:
    """One socket's view of a clinic stream: a bounded queue of frames after `after_seq`."""

    def __init__(self, clinic_id: int, max_queue: int) -> None:
        self.clinic_id = clinic_id
        self.queue = FrameQueue(max_queue)
        self.after_seq: int | None = None  # None until the socket has read its starting point
        self.overflowed = False
        self.gone = False
        self.idle = True  # nothing queued since the last keep-alive round

    def close(self) -> None:
        """The socket went away: wake its sender so it stops at once."""
        self.gone = True
        with suppress(asyncio.QueueFull):
            self.queue.put_nowait(CLOSED)

    def offer(self, frame: Frame) -> None:
        if self.overflowed:
            return
        if frame.seq is not None and self.after_seq is not None and frame.seq <= self.after_seq:
            return
        try:
            self.queue.put_nowait(frame)
            self.idle = False
        except asyncio.QueueFull:
            self.overflowed = True  # the socket closes and the client resyncs

    def prepend(self, frames: list[Frame]) -> None:
        queued = self.queue.seqs()
        self.queue.prepend([frame for frame in frames if frame.seq not in queued])

    def start_after(self, seq: int) -> None:
        """Drop what the socket's snapshot already covers."""
        self.after_seq = seq
        kept = []
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if frame.seq is None or frame.seq > seq:
                kept.append(frame)
        for frame in kept:
            self.queue.put_nowait(frame)


class ClinicStream:
    """A clinic's messages, delivered strictly in `seq` order."""

    def __init__(self, clinic_id: int) -> None:
        self.clinic_id = clinic_id
        self.last_seq: int | None = None
        self.subscribers: set[Subscriber] = set()
        self.buffer: dict[int, Message] = {}
        self.gap_task: asyncio.Task[None] | None = None

    def offer(self, message: Message) -> bool:
        """Deliver what is now in order; True when a gap is left to fill."""
        seq = message["seq"]
        if self.last_seq is not None and seq <= self.last_seq:
            return bool(self.buffer)
        self.buffer[seq] = message
        if self.last_seq is None:
            return False
        while self.last_seq + 1 in self.buffer:
            self.last_seq += 1
            ready = Frame.of(self.buffer.pop(self.last_seq))
            for subscriber in self.subscribers:
                subscriber.offer(ready)
        return bool(self.buffer)

    def start_at(self, seq: int) -> bool:
        """Begin at the first subscriber's starting point; True when a gap is left to fill."""
        if self.last_seq is not None:
            return False
        self.last_seq = seq
        waiting, self.buffer = self.buffer, {}
        for number in sorted(waiting):
            if number > seq:
                self.offer(waiting[number])
        return bool(self.buffer)


class Hub:
    def __init__(
        self,
        backend: Backend,
        fetch_events: FetchEvents,
        current_seqs: CurrentSeqs,
        *,
        max_queue: int = 200,
        poll_seconds: float = 2.0,
        ping_seconds: float = 20.0,
        on_notice: Notice | None = None,
        on_resubscribed: Callable[[], None] | None = None,
    ) -> None:
        self.backend = backend
        self._on_notice = on_notice
        # Called when the backend's subscription came back: notices may have been missed.
        self._on_resubscribed = on_resubscribed
        self._fetch = fetch_events
        self._current_seqs = current_seqs
        self._max_queue = max_queue
        self._poll_seconds = poll_seconds
        self._ping_seconds = ping_seconds
        self._pinger: asyncio.Task[None] | None = None
        self._streams: dict[int, ClinicStream] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.backend.start(self._deliver, self._resubscribed)
        self._poller = asyncio.create_task(self._poll())
        self._pinger = asyncio.create_task(self._keep_alive())

    async def stop(self) -> None:
        tasks = [self._poller, self._pinger, *(s.gap_task for s in self._streams.values())]
        for task in tasks:
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await self.backend.stop()

    async def publish(self, messages: list[Message]) -> None:
        for message in messages:
            await self.backend.publish(message)

    def publish_soon(self, messages: list[Message]) -> None:
        """Publish from the event loop or any thread, without waiting."""
        if self._loop is None or not messages:
            return
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            task = self._loop.create_task(self.publish(messages))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)
        else:
            asyncio.run_coroutine_threadsafe(self.publish(messages), self._loop)

    @asynccontextmanager
    async def subscribe(self, clinic_id: int) -> AsyncIterator[Subscriber]:
        """Register before reading the starting point, then call `ready` with its seq."""
        stream = self._streams.setdefault(clinic_id, ClinicStream(clinic_id))
        subscriber = Subscriber(clinic_id, self._max_queue)
        stream.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            stream.subscribers.discard(subscriber)
            if not stream.subscribers and self._streams.get(clinic_id) is stream:
                if stream.gap_task is not None:
                    stream.gap_task.cancel()
                del self._streams[clinic_id]

    async def ready(self, subscriber: Subscriber, seq: int) -> None:
        """The subscriber's starting point (its snapshot's seq) is known."""
        subscriber.start_after(seq)
        stream = self._streams.get(subscriber.clinic_id)
        if stream is None:
            return
        if stream.start_at(seq):
            self._schedule_gap_fill(stream)
        delivered = stream.last_seq
        if delivered is not None and seq < delivered:
            # The stream already passed this subscriber's snapshot (another socket of the
            # clinic started later): read the frames in between for it alone.
            missed = await self._fetch(subscriber.clinic_id, seq + 1, delivered)
            subscriber.prepend([Frame.of(m) for m in missed if m["seq"] <= delivered])

    async def _resubscribed(self) -> None:
        if self._on_resubscribed is not None:
            self._on_resubscribed()
        await self.catch_up()

    async def _deliver(self, message: Message) -> None:
        kind = message.get("type")
        if kind in NOTICE_TYPES and self._on_notice is not None:
            self._on_notice(message)
        if kind == ACCOUNTS_CHANGED:
            return
        stream = self._streams.get(message.get("clinic_id", 0))
        if stream is None:
            return
        if message.get("seq") is None:
            # Outside the ticket sequence (the clinic's setup changed): to every socket now.
            frame = Frame.of(message)
            for subscriber in stream.subscribers:
                subscriber.offer(frame)
            return
        if stream.offer(message):
            self._schedule_gap_fill(stream)

    def _schedule_gap_fill(self, stream: ClinicStream) -> None:
        if stream.gap_task is None or stream.gap_task.done():
            stream.gap_task = asyncio.create_task(self._fill_gap(stream))

    async def _fill_gap(self, stream: ClinicStream) -> None:
        """Wait for the missing messages, then read them from the database, until none is
        missing. Committed events are all in the database (a clinic's seq is taken under its
        row lock, so no later seq commits before an earlier one), so this ends."""
        for _ in range(GAP_ATTEMPTS):
            await asyncio.sleep(GAP_WAIT_SECONDS)
            if not stream.buffer or stream.last_seq is None:
                return
            try:
                await self._read_missing(stream, max(stream.buffer) - 1)
            except Exception:  # a database hiccup: try again after the next wait
                log.exception("realtime gap fill failed")
        if stream.buffer and stream.last_seq is not None:
            # Still missing after every attempt: skip rather than stall the clinic's displays;
            # they see the jump in `seq` and resync.
            log.warning("clinic %s: seq %s never came", stream.clinic_id, stream.last_seq + 1)
            stream.last_seq = min(stream.buffer) - 1
            if stream.offer(stream.buffer.pop(min(stream.buffer))):
                self._schedule_gap_fill(stream)

    async def _read_missing(self, stream: ClinicStream, up_to: int) -> None:
        if stream.last_seq is None or up_to <= stream.last_seq:
            return
        for message in await self._fetch(stream.clinic_id, stream.last_seq + 1, up_to):
            stream.offer(message)

    async def catch_up(self) -> None:
        """Read from the database every event a stream has not delivered yet."""
        known = {cid: s for cid, s in self._streams.items() if s.last_seq is not None}
        if not known:
            return
        for clinic_id, seq in (await self._current_seqs(list(known))).items():
            stream = known[clinic_id]
            if stream.last_seq is not None and seq > stream.last_seq:
                await self._read_missing(stream, seq)

    async def _keep_alive(self) -> None:
        """A ping to every socket that had nothing for a whole round (one timer, not one each)."""
        while True:
            await asyncio.sleep(self._ping_seconds)
            for stream in list(self._streams.values()):
                for subscriber in list(stream.subscribers):
                    if subscriber.idle and subscriber.after_seq is not None:
                        subscriber.offer(PING)
                    subscriber.idle = True

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.catch_up()
            except Exception:  # keep polling through a database hiccup
                log.exception("realtime catch-up failed")
