"""`antrean_websockets_connected`: a feed's socket counts from its handler's start (which
accepts at once) until the handler ends, however it ends."""

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from fastapi import WebSocket

P = ParamSpec("P")
Handler = Callable[P, Awaitable[None]]


def counted(feed: str) -> Callable[[Handler[P]], Handler[P]]:
    def decorate(handler: Handler[P]) -> Handler[P]:
        @functools.wraps(handler)  # FastAPI reads the handler's own parameters through this
        async def counting(*args: P.args, **kwargs: P.kwargs) -> None:
            websocket = next(a for a in (*args, *kwargs.values()) if isinstance(a, WebSocket))
            metrics = getattr(websocket.app.state, "metrics", None)
            if metrics is None:
                await handler(*args, **kwargs)
                return
            sockets = metrics.websockets.labels(feed=feed)
            sockets.inc()
            try:
                await handler(*args, **kwargs)
            finally:
                sockets.dec()

        return counting

    return decorate
