"""The hub's contract, the same on both backends (memory, and a real Redis)."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis

from app.realtime.backends import Backend, MemoryBackend, RedisBackend
from app.realtime.hub import FrameQueue, Hub, Message

pytestmark = pytest.mark.anyio

CLINIC = 7


class FakeDatabase:
    """The committed event log the hub falls back on: seq -> message."""

    def __init__(self) -> None:
        self.events: dict[int, Message] = {}

    def commit(self, seq: int) -> Message:
        message = {"type": "ticket.called", "seq": seq, "clinic_id": CLINIC, "ticket": {"id": seq}}
        self.events[seq] = message
        return message

    async def fetch(self, clinic_id: int, first: int, last: int) -> list[Message]:
        assert clinic_id == CLINIC
        return [self.events[s] for s in range(first, last + 1) if s in self.events]

    async def current_seqs(self, clinic_ids: list[int]) -> dict[int, int]:
        return {CLINIC: max(self.events, default=0)} if CLINIC in clinic_ids else {}


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        return MemoryBackend()
    return RedisBackend(
        request.getfixturevalue("redis_url"), request.getfixturevalue("redis_channel")
    )


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
async def hub(backend: Backend, database: FakeDatabase) -> AsyncIterator[Hub]:
    hub = Hub(backend, database.fetch, database.current_seqs, max_queue=5, poll_seconds=0.2)
    await hub.start()
    if isinstance(backend, RedisBackend):
        await asyncio.wait_for(backend.connected.wait(), 5)
    yield hub
    await hub.stop()


async def received(queue: FrameQueue, count: int, timeout: float = 5) -> list[int]:
    frames = [await asyncio.wait_for(queue.get(), timeout) for _ in range(count)]
    assert all(json.loads(frame.text) == frame.message for frame in frames)
    return [frame.message["seq"] for frame in frames]


async def test_messages_reach_every_subscriber_in_order(hub: Hub, database: FakeDatabase) -> None:
    async with hub.subscribe(CLINIC) as first, hub.subscribe(CLINIC) as second:
        await hub.ready(first, 0)
        await hub.ready(second, 0)
        await hub.publish([database.commit(seq) for seq in (1, 2, 3)])
        assert await received(first.queue, 3) == [1, 2, 3]
        assert await received(second.queue, 3) == [1, 2, 3]


async def test_other_clinics_messages_are_not_delivered(hub: Hub, database: FakeDatabase) -> None:
    async with hub.subscribe(CLINIC + 1) as other, hub.subscribe(CLINIC) as mine:
        await hub.ready(other, 0)
        await hub.ready(mine, 0)
        await hub.publish([database.commit(1)])
        assert await received(mine.queue, 1) == [1]
        await asyncio.sleep(0.1)
        assert other.queue.empty()


async def test_out_of_order_publishers_are_put_back_in_order(
    hub: Hub, database: FakeDatabase
) -> None:
    async with hub.subscribe(CLINIC) as subscriber:
        await hub.ready(subscriber, 0)
        late, early = database.commit(1), database.commit(2)
        await hub.publish([early])
        await hub.publish([late])
        assert await received(subscriber.queue, 2) == [1, 2]


async def test_a_lost_message_is_read_from_the_database(hub: Hub, database: FakeDatabase) -> None:
    async with hub.subscribe(CLINIC) as subscriber:
        await hub.ready(subscriber, 0)
        database.commit(1)  # committed, but its publish never arrives
        await hub.publish([database.commit(2)])
        assert await received(subscriber.queue, 2) == [1, 2]
        database.commit(3)  # the last of a burst lost: the periodic check finds it
        assert await received(subscriber.queue, 1) == [3]


async def test_a_subscriber_starts_after_its_snapshot(hub: Hub, database: FakeDatabase) -> None:
    async with hub.subscribe(CLINIC) as subscriber:
        await hub.publish([database.commit(1), database.commit(2)])  # during the snapshot read
        await hub.ready(subscriber, 1)  # the snapshot covered seq 1
        await hub.publish([database.commit(3)])
        assert await received(subscriber.queue, 2) == [2, 3]


async def test_a_slow_subscriber_overflows_without_holding_up_the_others(
    hub: Hub, database: FakeDatabase
) -> None:
    async with hub.subscribe(CLINIC) as slow, hub.subscribe(CLINIC) as fast:
        await hub.ready(slow, 0)
        await hub.ready(fast, 0)
        got: list[int] = []
        for seq in range(1, 13):
            await hub.publish([database.commit(seq)])
            got += await received(fast.queue, 1)
        assert got == list(range(1, 13))
        assert slow.overflowed
        assert slow.queue.qsize() == 5


async def test_redis_dropping_the_connection_loses_nothing(
    redis_url: str, redis_channel: str, database: FakeDatabase
) -> None:
    backend = RedisBackend(redis_url, redis_channel)
    hub = Hub(backend, database.fetch, database.current_seqs, poll_seconds=60)
    await hub.start()
    try:
        await asyncio.wait_for(backend.connected.wait(), 5)
        async with hub.subscribe(CLINIC) as subscriber:
            await hub.ready(subscriber, 0)
            await hub.publish([database.commit(1)])
            assert await received(subscriber.queue, 1) == [1]
            killer = redis.Redis.from_url(redis_url)
            assert killer.client_kill_filter(_type="pubsub") >= 1
            killer.close()
            database.commit(2)  # published while the subscription is down: lost by Redis
            await asyncio.sleep(0.05)
            await asyncio.wait_for(backend.connected.wait(), 5)
            # On reconnecting the hub reads what it missed, then goes on live.
            assert await received(subscriber.queue, 1) == [2]
            await hub.publish([database.commit(3)])
            assert await received(subscriber.queue, 1) == [3]
    finally:
        await hub.stop()


async def test_idle_subscribers_get_a_keep_alive_ping(database: FakeDatabase) -> None:
    hub = Hub(MemoryBackend(), database.fetch, database.current_seqs, ping_seconds=0.05)
    await hub.start()
    try:
        async with hub.subscribe(CLINIC) as subscriber:
            await hub.ready(subscriber, 0)
            frame = await asyncio.wait_for(subscriber.queue.get(), 2)
            assert frame.seq is None
            assert json.loads(frame.text) == {"type": "ping"}
    finally:
        await hub.stop()


async def test_a_subscriber_whose_snapshot_is_older_than_the_stream_gets_the_frames_between(
    hub: Hub, database: FakeDatabase
) -> None:
    async with hub.subscribe(CLINIC) as early, hub.subscribe(CLINIC) as late:
        for seq in (1, 2, 3):
            database.commit(seq)
        await hub.ready(late, 3)  # the later snapshot was read first and started the stream
        await hub.ready(early, 1)
        await hub.publish([database.commit(4)])
        assert await received(early.queue, 3) == [2, 3, 4]
        assert await received(late.queue, 1) == [4]


async def test_the_gap_filler_never_skips_what_the_database_has(database: FakeDatabase) -> None:
    async def slow_fetch(clinic_id: int, first: int, last: int) -> list[Message]:
        await asyncio.sleep(0.3)  # meanwhile more messages arrive early
        return await database.fetch(clinic_id, first, last)

    hub = Hub(MemoryBackend(), slow_fetch, database.current_seqs, poll_seconds=60)
    await hub.start()
    try:
        async with hub.subscribe(CLINIC) as subscriber:
            await hub.ready(subscriber, 0)
            database.commit(1)  # never published
            await hub.publish([database.commit(2)])
            await asyncio.sleep(0.3)  # the filler is now reading 1..1
            database.commit(3)  # never published either
            await hub.publish([database.commit(4)])
            assert await received(subscriber.queue, 4) == [1, 2, 3, 4]
    finally:
        await hub.stop()
