"""Request bodies over a size are refused with 413 `body_too_large` before they are read.

A pure ASGI middleware: a declared Content-Length is checked against the limit once, and
then the server itself delivers no more than it declared, so the request passes untouched;
only a body sent without one (Transfer-Encoding: chunked) has its chunks counted as the
application reads them.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response

CODE = "body_too_large"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit; the app's handler for
    Starlette's HTTPException answers it (413 has the code `body_too_large`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body larger than {limit} bytes")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streamed = too_large = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                # Not a number: the server refuses such a request before we see it.
                too_large = value.isdigit() and int(value) > self.max_bytes
            elif name == b"transfer-encoding":
                streamed = True  # whatever a Content-Length beside it says
        if too_large:
            await self._refuse(scope, receive, send)
        elif streamed:
            await self._counted(scope, receive, send)
        else:  # a declared length, or no body at all (HTTP/1.1 has no third way)
            await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"Request body larger than {self.max_bytes} bytes"
        # The unread body is the server's to drop; closing the connection saves reading it.
        response = error_response(413, detail, CODE, {"Connection": "close"})
        await response(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False
        limit = self.max_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except BodyTooLarge:
            # Raised where no handler answered it (a mounted app, another middleware).
            if started:
                raise
            await self._refuse(scope, receive, send)
