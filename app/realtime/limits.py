"""Limits on the WebSocket feeds, a pure ASGI middleware in front of their routes.

- Open sockets per client address (an IPv6 address's /64), in this process
  (ANTREAN_WS_CONNECTIONS_PER_ADDRESS): one more is accepted and closed at once with 1013
  (try again later), which the pages answer by reconnecting after a growing pause, so a
  phone behind a crowded address gets in when a place frees up.
- Messages per socket (ANTREAN_WS_MESSAGE_RATE, syntax of the `limits` library): the pages
  send nothing, so a socket sending more is closed with 1008 (policy violation), after which
  the pages do not reconnect.
"""

import time
from collections import deque

from limits import parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.ratelimit import address_key

CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_POLICY_VIOLATION = 1008


class SocketLimits:
    def __init__(self, app: ASGIApp, *, per_address: int, message_rate: str) -> None:
        self.app = app
        self.per_address = per_address
        rate = parse(message_rate)
        self.max_messages = rate.amount
        self.window_seconds = float(rate.get_expiry())
        self.open: dict[str, int] = {}  # client address -> sockets open in this process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = address_key(client[0]) if client else "unknown"
        count = self.open.get(address, 0)
        if count >= self.per_address:
            await self._refuse(receive, send)
            return
        self.open[address] = count + 1
        try:
            await self.app(scope, self._counting(receive, send), send)
        finally:
            left = self.open[address] - 1
            if left:
                self.open[address] = left
            else:
                del self.open[address]

    async def _refuse(self, receive: Receive, send: Send) -> None:
        # Accepted and closed, so the page learns why (a refused handshake reaches it as 1006).
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send(
            {
                "type": "websocket.close",
                "code": CLOSE_TRY_AGAIN_LATER,
                "reason": "too many connections from this address",
            }
        )

    def _counting(self, receive: Receive, send: Send) -> Receive:
        times: deque[float] = deque()
        most, window = self.max_messages, self.window_seconds

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                now = time.monotonic()
                times.append(now)
                if len(times) > most and now - times.popleft() < window:
                    await send(
                        {
                            "type": "websocket.close",
                            "code": CLOSE_POLICY_VIOLATION,
                            "reason": "too many messages",
                        }
                    )
                    # The route sees its client gone and ends the feed.
                    return {"type": "websocket.disconnect", "code": CLOSE_POLICY_VIOLATION}
            return message

        return counting_receive
