"""The WebSocket feeds: `/ws/clinics/{id}` for displays, `/ws/tickets/{id}` for phones."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from websockets.exceptions import ConnectionClosed

from app.auth.access import TicketHolderFeed
from app.models import TicketStatus
from app.models.types import MAX_BIG_ID, MAX_ID
from app.observability.sockets import counted
from app.realtime.hub import Hub, Message, Subscriber
from app.realtime.reads import DatabaseReads
from app.routers.params import parse_id

router = APIRouter()

# Closed because the client fell too far behind: it reconnects with `since` and catches up.
CLOSE_TOO_SLOW = 4000
CLOSE_NOT_FOUND = 4404
_GONE = (WebSocketDisconnect, ConnectionClosed, RuntimeError, OSError)


PING_TEXT = json.dumps({"type": "ping"})
# A ticket in one of these never changes again: its feed only keeps the socket alive.
FINAL = frozenset({TicketStatus.done, TicketStatus.cancelled, TicketStatus.expired})


def _state(websocket: WebSocket) -> tuple[Hub, DatabaseReads, Any]:
    app_state = websocket.app.state
    return app_state.hub, app_state.reads, app_state


async def _watch_for_close(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Read (and ignore) what the client sends, to learn at once when it goes away."""
    with suppress(*_GONE):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    subscriber.close()


@asynccontextmanager
async def _subscription(
    hub: Hub, websocket: WebSocket, clinic_id: int
) -> AsyncIterator[Subscriber]:
    async with hub.subscribe(clinic_id) as subscriber:
        watcher = asyncio.create_task(_watch_for_close(websocket, subscriber))
        try:
            yield subscriber
        finally:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher


async def _send(websocket: WebSocket, message: Message) -> None:
    await websocket.send_text(json.dumps(message, separators=(",", ":")))


async def _start_display(
    websocket: WebSocket,
    hub: Hub,
    reads: DatabaseReads,
    subscriber: Subscriber,
    since: int | None,
    app_state: Any,
) -> bool:
    """Send the snapshot, or what was missed; False for an unknown clinic. A function of its
    own so the snapshot is not kept alive for the socket's lifetime."""
    start = await reads.display_start(
        subscriber.clinic_id, since, app_state.settings.replay_limit, app_state.clock()
    )
    if start is None:
        await websocket.close(code=CLOSE_NOT_FOUND, reason="no such clinic")
        return False
    seq, first = start
    await hub.ready(subscriber, seq)
    for message in first:
        await _send(websocket, message)
    return True


@router.websocket("/ws/clinics/{clinic_id}")
@counted("display")
async def display_feed(websocket: WebSocket, clinic_id: str, since: str | None = None) -> None:
    """Snapshot (or what was missed since `since`), then one message per change."""
    hub, reads, app_state = _state(websocket)
    await websocket.accept()
    # Parameters are checked after accepting, so a page learns why from the close code
    # (a refused handshake reaches it only as 1006).
    clinic = parse_id(clinic_id, MAX_ID)
    if clinic is None:
        await websocket.close(code=CLOSE_NOT_FOUND, reason="no such clinic")
        return
    start_after = parse_id(since, MAX_BIG_ID, minimum=0)  # anything else: start from a snapshot
    try:
        async with _subscription(hub, websocket, clinic) as subscriber:
            if not await _start_display(websocket, hub, reads, subscriber, start_after, app_state):
                return
            while True:
                frame = await subscriber.queue.get()
                if subscriber.gone:
                    return
                if subscriber.overflowed:
                    await websocket.close(
                        code=CLOSE_TOO_SLOW, reason="too slow: reconnect with since"
                    )
                    return
                await websocket.send_text(frame.text)
    except _GONE:
        return


def _concerns(message: Message, ticket_id: int, service_id: int) -> bool:
    ticket = message.get("ticket") or {}
    return (
        message.get("type") == "clinic.changed"  # counters or settings: the estimate may move
        or ticket.get("id") == ticket_id
        or ticket.get("service_id") == service_id
        or message.get("from_service_id") == service_id
        or str(service_id) in (message.get("waiting") or {})
    )


@router.websocket("/ws/tickets/{ticket_id}")
@counted("ticket")
async def ticket_feed(websocket: WebSocket, holder: TicketHolderFeed) -> None:
    """The patient's ticket, on connect and whenever its status, position or estimate change
    (the holder of the ticket's token)."""
    hub, reads, app_state = _state(websocket)
    await websocket.accept()
    try:
        if holder is None:
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="wrong ticket token")
            return
        ticket, clinic_id = holder.ticket_id, holder.clinic_id
        loop = asyncio.get_running_loop()
        ping_seconds = app_state.settings.ws_ping_seconds
        async with _subscription(hub, websocket, clinic_id) as subscriber:
            seq, view = await reads.ticket_state(ticket)
            await hub.ready(subscriber, seq)
            await _send(websocket, {"type": "ticket", "ticket": view.model_dump(mode="json")})
            last_sent = loop.time()
            while True:
                frame = await subscriber.queue.get()
                if subscriber.gone:
                    return
                if subscriber.overflowed:
                    await websocket.close(code=CLOSE_TOO_SLOW, reason="too slow: reconnect")
                    return
                if frame.message["type"] == "ping":
                    await websocket.send_text(frame.text)
                    last_sent = loop.time()
                    continue
                if view.status in FINAL or not _concerns(frame.message, ticket, view.service_id):
                    # The hub pings only quiet sockets; in a busy clinic this phone hears
                    # nothing of the frames it skips, so it gets its own keep-alive.
                    if loop.time() - last_sent >= ping_seconds:
                        await websocket.send_text(PING_TEXT)
                        last_sent = loop.time()
                    continue
                while not subscriber.queue.empty():  # one read for a burst of changes
                    subscriber.queue.get_nowait()
                if subscriber.gone:  # the burst may have held the end-of-feed mark
                    return
                _, fresh = await reads.ticket_state(ticket)
                if fresh != view:
                    view = fresh
                    await _send(
                        websocket, {"type": "ticket", "ticket": view.model_dump(mode="json")}
                    )
                    last_sent = loop.time()
    except _GONE:
        return
