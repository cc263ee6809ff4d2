"""The database (or Redis) away for a moment: 503 `unavailable` with Retry-After, not a 500.

While PostgreSQL restarts, every request that needs it fails at once (the connection is
refused or cut); the service itself is fine and recovers by itself when the database is back:
the requests' pool pings a connection before lending it, and a connection that failed is
invalidated and replaced. So the client is told to try again shortly, in the shape of every
other error (`{"detail", "code": "unavailable"}`, docs/errors.md), rather than a 500 that
reads as a bug.

What counts as "away": SQLAlchemy's OperationalError (connection refused or lost, the server
shutting down or starting up), any DBAPI error SQLAlchemy recognised as a disconnect, the
pool's own timeout, the driver's errors where the writer speaks to it directly (its
savepoints), and Redis refusing the phones' rate limit. A constraint or a bad statement is no
such thing and stays what it was (409, 500).
"""

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import Unavailable, error_response

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
# A connection idle in the pool this long is pinged before it is lent (ping_when_idle).
IDLE_PING_SECONDS = 0.2


def _driver_errors() -> tuple[type[Exception], ...]:
    """The drivers' own "connection" errors (raised past SQLAlchemy by raw cursors)."""
    found: list[type[Exception]] = []
    try:
        import psycopg

        found += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # pragma: no cover (a SQLite-only install)
        pass
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout

        found += [RedisConnectionError, RedisTimeout]
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database (or Redis) cannot be reached right now."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, _driver_errors())
    return isinstance(exc, _driver_errors())


def unavailable_response() -> JSONResponse:
    return error_response(
        Unavailable.status_code,
        Unavailable.detail,
        Unavailable.code,
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install(app: FastAPI) -> None:
    """503 for the errors of a database or Redis that is away; anything else as before."""

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_unavailable(exc):
            raise exc  # to the server's 500, as without this handler
        log.warning("%s %s: unavailable (%s)", request.method, request.url.path, exc)
        return unavailable_response()

    app.add_exception_handler(DBAPIError, on_error)
    app.add_exception_handler(PoolTimeout, on_error)
    for error in _driver_errors():
        app.add_exception_handler(error, on_error)


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Ping a pooled connection before lending it, but only when it has been idle for
    `idle_seconds`: a busy writer pays no round trip per transaction, and a connection the
    database dropped while it lay idle (a restart) is replaced before a transaction is run on
    it, instead of failing the first commands after the database came back."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards the connection and lends a new one (or fails to connect).
            raise DisconnectionError("the idle connection was lost") from exc
