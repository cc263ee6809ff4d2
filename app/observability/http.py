"""Request latency by route template: a pure ASGI middleware (no BaseHTTPMiddleware, which
buffers streaming responses and costs a task per request). WebSockets pass straight through."""

import time
from typing import Any

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope, root_path: str) -> str:
    """The route's template, never the raw path (bounded label values).

    Since FastAPI 0.137 an included router's routes are matched where they were declared, so
    `scope["route"]` carries the path without the include prefix (`/counters/{counter_id}`
    for `/api/v1/counters/7`). The prefix is what is left of the request's path before the
    part the route matched; our include prefixes are literal (`/api/v1`), so it holds no ids.
    """
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None)
    regex = getattr(route, "path_regex", None)
    if isinstance(template, str) and regex is not None:
        path: str = scope.get("path", "")
        for start, char in enumerate(path):
            if char == "/" and regex.match(path[start:]):
                return path[:start] + template
        return template
    mounted: str = scope.get("root_path", "")
    if mounted != root_path and mounted.startswith(root_path):
        # A mounted app (/static): its mount point, not the file.
        return mounted + "/{path}"
    return UNMATCHED


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class RequestMetrics:
    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram
        # Per route object, its label; per label set, its histogram child. Both are bounded
        # (routes, methods, status classes) and spare every request the lookups (each route
        # is included once, so its label never changes).
        self._route_labels: dict[int, str] = {}
        self._children: dict[tuple[str, str, str], Any] = {}

    def _observe(self, scope: Scope, root_path: str, method: str, status: int, took: float) -> None:
        route = scope.get("route")
        label = self._route_labels.get(id(route)) if route is not None else None
        if label is None:
            label = route_label(scope, root_path)
            if route is not None and label != UNMATCHED:
                self._route_labels[id(route)] = label
        key = (label, method, status_class(status))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.histogram.labels(
                route=label, method=method, status=key[2]
            )
        child.observe(took)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root_path: str = scope.get("root_path", "")
        method = scope["method"] if scope["method"] in METHODS else "other"
        status = 500  # an exception before any response is a server error
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._observe(scope, root_path, method, status, time.perf_counter() - started)
