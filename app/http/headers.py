"""Security headers on every HTTP response: a pure ASGI middleware adding a few ready-made
header pairs as the response starts (no per-request parsing beyond its Content-Type).

- every response: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
- over https (the request's scheme, which uvicorn takes from a trusted proxy's
  X-Forwarded-Proto): `Strict-Transport-Security`;
- HTML pages: a `Content-Security-Policy` allowing only the service's own scripts, styles,
  images, sounds and feeds, and no framing (`X-Frame-Options: DENY` for old browsers) except
  the display page, which the origins of ANTREAN_DISPLAY_FRAME_ANCESTORS may frame, and the
  printed ticket, which the kiosk page (the same origin) prints through a frame.
"""

import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000")
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
DENY = (b"x-frame-options", b"DENY")
DISPLAY_PREFIX = "/display/"
# The printed ticket (/t/{id}/print), which the kiosk page prints through a frame of its own.
PRINT_PREFIX, PRINT_SUFFIX = "/t/", "/print"
# A Host header fit to name the page's own feed origin in the policy (anything else: 'self').
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def page_policy(frame_ancestors: str, host: str | None) -> str:
    # connect-src: 'self' covers ws:/wss: of the same host in CSP 3 browsers; older ones
    # (CSP 2, still on some phones) need the feed's origin spelled out.
    feeds = f" ws://{host} wss://{host}" if host else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{feeds}; media-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {frame_ancestors}"
    )


# FastAPI's own API docs load Swagger UI / ReDoc from a CDN with an inline script: no
# framing, no plugins, nothing else restricted.
DOCS_POLICY = b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    def __init__(
        self,
        app: ASGIApp,
        *,
        display_frame_ancestors: Iterable[str] = (),
        docs_paths: Iterable[str | None] = (),
    ) -> None:
        self.app = app
        allowed = " ".join(display_frame_ancestors)
        self.display_ancestors = allowed or "'none'"
        self.docs_paths = frozenset(path for path in docs_paths if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *ALWAYS]
                if https:
                    headers.append(HSTS)
                for name, value in headers:
                    if name == b"content-type":
                        if value.startswith(b"text/html"):
                            headers.extend(self._page_headers(scope))
                        break
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _page_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        if path in self.docs_paths:
            return [(b"content-security-policy", DOCS_POLICY)]
        host = None
        for name, value in scope["headers"]:
            if name == b"host":
                decoded = value.decode("latin-1")
                host = decoded if HOST.fullmatch(decoded) else None
                break
        if path.startswith(DISPLAY_PREFIX):
            policy = page_policy(self.display_ancestors, host)
            extra = [] if self.display_ancestors != "'none'" else [DENY]
        elif path.startswith(PRINT_PREFIX) and path.endswith(PRINT_SUFFIX):
            policy = page_policy("'self'", host)
            extra = [(b"x-frame-options", b"SAMEORIGIN")]
        else:
            policy = page_policy("'none'", host)
            extra = [DENY]
        return [(b"content-security-policy", policy.encode("latin-1")), *extra]
