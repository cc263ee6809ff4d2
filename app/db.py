"""Engine and sessions.

SQLite allows one writer at a time. A transaction that reads and then writes under SQLite's
default deferred BEGIN can fail with "database is locked" when another writer got in between,
so write sessions start with BEGIN IMMEDIATE: writers queue on the lock (busy_timeout) and run
one after another, which is also what makes call-next atomic on SQLite. Read sessions keep the
deferred BEGIN and, with WAL, never wait for a writer.
Inside one process, writers also queue on a plain lock before BEGIN IMMEDIATE: SQLite's own
busy handler waits by sleeping and polling (up to 100 ms a nap); a lock hands over at once.
In a serving process the writer (app/writer.py) is the only one that writes, so the
lock is only ever contended at startup (admin bootstrap) and by tests that write directly.
PostgreSQL needs none of this: the queue code takes row locks.
"""

import sqlite3
import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlmodel import Session

WRITE_OPTION = "antrean_write"
# A write transaction that must not wait for the write lock (the writer on the event loop):
# WriteLockBusy instead, and the caller waits elsewhere.
NOWAIT_OPTION = "antrean_nowait"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KB = 64 * 1024  # per connection


class WriteLockBusy(Exception):
    """The SQLite write lock is held (by this process's other writer, or another process)."""


def normalize_url(url: str) -> URL:
    """Accept plain `sqlite:///path` and `postgresql://…` URLs and pick our driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        # A database that stops answering (a frozen host, a dropped route) fails a
        # connection in seconds, and keepalives find a dead one, instead of hanging requests
        # and the writer until the kernel gives up.
        kwargs.setdefault("connect_args", POSTGRES_CONNECT_ARGS)
        return create_engine(parsed, **kwargs)
    if parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed.query):
        # One shared in-memory connection cannot keep concurrent transactions apart.
        raise ValueError("in-memory SQLite is not supported: give a file, sqlite:///path")
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **kwargs,
    )
    _configure_sqlite(engine)
    return engine


class _WriterLock:
    """One writing transaction at a time per engine, released right after COMMIT/ROLLBACK."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    @staticmethod
    def _key(connection: Any) -> int:
        # SQLAlchemy hands over the pool's proxy or the raw sqlite3 connection: key on the raw.
        return id(getattr(connection, "dbapi_connection", connection))

    def acquire(self, connection: Any, *, wait: bool = True) -> None:
        if not wait:
            if not self._lock.acquire(blocking=False):
                raise WriteLockBusy()
        elif not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError("waited too long for the SQLite write lock")
        self._holder = self._key(connection)

    def release(self, connection: Any) -> None:
        if self._holder is not None and self._holder == self._key(connection):
            self._holder = None
            self._lock.release()


def _configure_sqlite(engine: Engine) -> None:
    writer = _WriterLock()
    dialect = engine.dialect
    plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

    def commit_then_release(dbapi_connection: Any) -> None:
        try:
            plain_commit(dbapi_connection)
        finally:
            writer.release(dbapi_connection)

    def rollback_then_release(dbapi_connection: Any) -> None:
        try:
            plain_rollback(dbapi_connection)
        finally:
            writer.release(dbapi_connection)

    dialect.do_commit = commit_then_release  # type: ignore[method-assign]
    dialect.do_rollback = rollback_then_release  # type: ignore[method-assign]

    # A connection that leaves the pool's hands some other way (invalidated after an error,
    # checked in) never keeps the lock.
    for pool_event in ("checkin", "invalidate", "soft_invalidate", "close"):
        event.listen(
            engine, pool_event, lambda dbapi_connection, *_: writer.release(dbapi_connection)
        )

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed ticket survives a power cut too, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # A day's tickets and their indexes in memory (SQLite's default keeps 2 MB): with 90,000
        # tickets in one service, taking a ticket cost half as much again with the default.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
        # Savepoints' journals (one a command) in memory, not in temporary files.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if not options.get(WRITE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        wait = not options.get(NOWAIT_OPTION, False)
        writer.acquire(dbapi_connection, wait=wait)
        try:
            if wait:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                _begin_immediate_or_busy(dbapi_connection)
        except BaseException:
            writer.release(dbapi_connection)
            raise


def _begin_immediate_or_busy(dbapi_connection: Any) -> None:
    """BEGIN IMMEDIATE without waiting: WriteLockBusy when another process writes."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise WriteLockBusy() from exc
        finally:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def open_session(
    engine: Engine, *, write: bool, info: dict[str, Any] | None = None, nowait: bool = False
) -> Session:
    """A session whose transaction is declared as writing (or not) before it begins. `info`:
    what the process lends its sessions (the directory's memory, app/directory/setups.py).
    `nowait` (SQLite): the write transaction raises WriteLockBusy rather than wait."""
    options = {WRITE_OPTION: True, NOWAIT_OPTION: nowait} if write else None
    bind = engine.execution_options(**options) if options else engine
    return Session(bind, expire_on_commit=False, info=dict(info) if info else None)


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One read session per request. Requests never write through it: every state change is
    a command handed to the writer (app/writer.py), which owns the write transactions."""
    info = getattr(request.app.state, "session_info", None)
    with open_session(get_engine(request), write=False, info=info) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
