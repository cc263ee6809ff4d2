"""Engine and sessions.

SQLite allows one writer at a time. A transaction that reads and then writes under SQLite's
default deferred BEGIN can fail with "database is locked" when another writer got in between,
so write sessions start with BEGIN IMMEDIATE: writers queue on the lock (busy_timeout) and run
one after another, which is also what makes call-next atomic on SQLite. Read sessions keep the
deferred BEGIN and, with WAL, never wait for a writer.
PostgreSQL needs none of this: the queue code takes row locks.
"""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

WRITE_OPTION = "antrean_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> URL:
    """Accept plain `sqlite:///path` and `postgresql://…` URLs and pick our driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    in_memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        poolclass=StaticPool if in_memory else None,
        **kwargs,
    )
    _configure_sqlite(engine, wal=not in_memory)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed ticket survives a power cut too, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def open_session(engine: Engine, *, write: bool) -> Session:
    """A session whose transaction is declared as writing (or not) before it begins."""
    bind = engine.execution_options(**{WRITE_OPTION: True}) if write else engine
    return Session(bind, expire_on_commit=False)


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; anything but GET/HEAD is a write."""
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    with open_session(get_engine(request), write=write) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
