"""Where published messages travel: this process only, or every process through Redis."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Deliver = Callable[[dict[str, Any]], Awaitable[None]]
Reconnected = Callable[[], Coroutine[Any, Any, None]]
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
PING_SECONDS = 5.0


class Backend(Protocol):
    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None: ...
    async def publish(self, message: dict[str, Any]) -> None: ...
    async def stop(self) -> None: ...


class MemoryBackend:
    """One process: a published message is delivered straight back to this process's hub."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver, _on_reconnect: Reconnected) -> None:
        self._deliver = deliver

    async def publish(self, message: dict[str, Any]) -> None:
        if self._deliver is not None:
            await self._deliver(message)

    async def stop(self) -> None:
        self._deliver = None


class RedisBackend:
    """Redis pub/sub on one channel; one listener task per process, reconnecting by itself.

    Pub/sub delivers at most once, so what is lost while the connection is down is recovered
    by the hub from the database (`on_reconnect`, and its periodic check).
    """

    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self._client: redis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        self._client = redis.Redis.from_url(self._url, health_check_interval=10)
        self._listener = asyncio.create_task(self._listen(deliver, on_reconnect))

    async def publish(self, message: dict[str, Any]) -> None:
        assert self._client is not None
        data = json.dumps(message, separators=(",", ":"))
        for delay in (*RECONNECT_DELAYS, None):
            try:
                await self._client.publish(self._channel, data)
                return
            except (RedisError, OSError) as exc:
                if delay is None:
                    # Not lost for good: every process finds it in the database (hub poll).
                    log.warning("could not publish to Redis: %s", exc)
                    return
                await asyncio.sleep(delay)

    async def _listen(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            assert self._client is not None
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self.connected.set()
                if attempt:
                    # What was published while the subscription was down is read from the
                    # database, beside the listener so that it goes on receiving meanwhile.
                    catch_up: asyncio.Task[None] = asyncio.create_task(on_reconnect())
                    self._background.add(catch_up)  # the loop keeps only weak references
                    catch_up.add_done_callback(self._background.discard)
                    catch_up.add_done_callback(_log_failure)
                attempt = 0
                last_heard = last_ping = loop.time()
                while True:
                    raw = await pubsub.get_message(timeout=1.0)
                    now = loop.time()
                    if raw is not None:
                        last_heard = now
                        if raw.get("type") == "message":
                            await _deliver_safely(deliver, raw["data"])
                    if now - last_ping > PING_SECONDS:
                        # A silently dead connection answers no ping: then reconnect.
                        if now - last_heard > 3 * PING_SECONDS:
                            raise ConnectionError("no answer from Redis")
                        await pubsub.ping()
                        last_ping = now
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ConnectionError) as exc:
                self.connected.clear()
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                log.warning("Redis subscription lost (%s); again in %.2fs", exc, delay)
                attempt += 1
                await asyncio.sleep(delay)
            finally:
                try:
                    await pubsub.aclose()
                except (RedisError, OSError):
                    pass

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("the Redis listener had failed")
        if self._client is not None:
            await self._client.aclose()


async def _deliver_safely(deliver: Deliver, data: bytes | str) -> None:
    """One bad message (not JSON, no seq) is logged and skipped; the listener goes on."""
    try:
        await deliver(json.loads(data))
    except Exception:
        log.exception("could not deliver a realtime message")


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("realtime catch-up after reconnecting failed", exc_info=task.exception())


def make_backend(redis_url: str | None, channel: str) -> Backend:
    return RedisBackend(redis_url, channel) if redis_url else MemoryBackend()
