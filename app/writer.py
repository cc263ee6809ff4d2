"""One writer per process and database: every state change is a command handed to it.

A command is a function of a Session that reads, checks, writes and returns its answer (built
from what it wrote), without committing: the writer commits.

SQLite (`BatchingWriter`): one thread does all the writing. It takes every command that queued
while its previous commit ran and runs them in one transaction (BEGIN IMMEDIATE), each inside a
SAVEPOINT of its own, then commits them together: one fsync for the batch (group commit). A
command that raises is rolled back to its savepoint alone: its caller gets the exception, what
it recorded is dropped, and the others commit. Every caller is answered only after the COMMIT
holding its work has returned (WAL, synchronous=FULL), so a 2xx is durable.

PostgreSQL (`DirectWriter`): each command runs in a transaction of its own in the caller's
worker thread, concurrently with the others; row locks keep them apart (call-next takes FOR
UPDATE SKIP LOCKED), and PostgreSQL already commits concurrent transactions together
(commit_delay aside, its WAL flush serves every transaction waiting on it).

Either way, after each COMMIT the work it made permanent goes to `AfterCommit`, in commit order.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.after_commit import AfterCommit, Commit, take_pending
from app.db import make_engine, open_session
from app.prepared import lend_connection
from app.queueing.events import end_command, end_transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
Command = Callable[[Session], T]

MAX_BATCH = 256


class Writer:
    """The interface the routes use: `run` from a worker thread, `arun` from the event loop.

    The writer has connections of its own (`pool_size`), apart from the requests' read
    sessions: a request holds its read session while it waits for its command, and the writer
    must never wait for a connection that a waiting request holds.
    """

    pool_size = 1

    def __init__(
        self,
        engine: Engine,
        after_commit: AfterCommit,
        session_info: dict[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.after_commit = after_commit
        self.session_info = session_info
        self.write_engine = make_engine(
            engine.url.render_as_string(hide_password=False),
            pool_size=self.pool_size,
            max_overflow=self.pool_size,
        )

    def start(self) -> None:
        self.after_commit.start()

    def stop(self) -> None:
        self.after_commit.stop()
        self.write_engine.dispose()

    def run(self, command: Command[T]) -> T:
        raise NotImplementedError

    async def arun(self, command: Command[T]) -> T:
        return await run_in_threadpool(self.run, command)


class DirectWriter(Writer):
    """A transaction per command, in the calling thread (PostgreSQL)."""

    pool_size = 20

    def run(self, command: Command[T]) -> T:
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                with open_session(self.write_engine, write=True, info=self.session_info) as session:
                    lend_connection(session)
                    result = command(session)
                    end_command(session)
                    commit = take_pending(session)
                    end_transaction(session, commit)
                    session.commit()
                break
            except DBAPIError as exc:
                if attempt == DEADLOCK_RETRIES or not _lost_a_deadlock(exc):
                    raise
                log.warning("deadlock detected; running the command again")
        self.after_commit.deliver(commit)
        return result


# PostgreSQL breaks a deadlock by failing one of the transactions: its work runs again.
DEADLOCK_DETECTED = "40P01"
DEADLOCK_RETRIES = 3


def _lost_a_deadlock(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == DEADLOCK_DETECTED


@dataclass
class _Job:
    command: Command[Any]
    future: "Future[Any]"


class BatchingWriter(Writer):
    """Group commit on one thread (SQLite)."""

    def __init__(
        self,
        engine: Engine,
        after_commit: AfterCommit,
        session_info: dict[str, Any] | None = None,
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        super().__init__(engine, after_commit, session_info)
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # Batch sizes, for the benchmarks and the metrics: commits made and commands in them.
        self.commits = 0
        self.commands = 0

    def start(self) -> None:
        super().start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        super().stop()

    def submit(self, command: Command[T]) -> "Future[T]":
        future: Future[T] = Future()
        if self._thread is None:
            future.set_exception(RuntimeError("the writer is not running"))
        else:
            self._queue.put(_Job(command, future))
        return future

    def run(self, command: Command[T]) -> T:
        return self.submit(command).result()

    async def arun(self, command: Command[T]) -> T:
        return await asyncio.wrap_future(self.submit(command))

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            try:
                self._commit(batch)
            except BaseException as exc:  # never leave a caller waiting
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                log.exception("writer batch failed")
            if stopping:
                return

    def _commit(self, batch: list[_Job]) -> None:
        answered: list[tuple[_Job, Any]] = []
        commit = Commit()
        try:
            with open_session(self.write_engine, write=True, info=self.session_info) as session:
                driver, _ = lend_connection(session)
                for job in batch:
                    if not job.future.set_running_or_notify_cancel():
                        continue
                    try:
                        result = _in_savepoint(session, driver, job.command)
                    except Exception as exc:
                        take_pending(session)  # what a refused command recorded never happened
                        job.future.set_exception(exc)
                        continue
                    commit.extend(take_pending(session))
                    answered.append((job, result))
                end_transaction(session, commit)
                session.commit()
        except Exception as exc:
            for job, _ in answered:
                job.future.set_exception(exc)
            log.exception("group commit of %d commands failed", len(answered))
            return
        self.commits += 1
        self.commands += len(answered)
        self.after_commit.deliver(commit)
        for job, result in answered:
            job.future.set_result(result)


def _in_savepoint(session: Session, driver: Any, command: Command[T]) -> T:
    """Run one command of a batch inside a savepoint of its own (on the driver: a savepoint
    through SQLAlchemy costs more than most commands); when it raises, everything it wrote is
    rolled back, and the ORM forgets what it held (it may have been written by the command)."""
    cursor = driver.cursor()
    try:
        cursor.execute("SAVEPOINT command")
        try:
            result = command(session)
            end_command(session)
            session.flush()
        except BaseException:
            cursor.execute("ROLLBACK TO SAVEPOINT command")
            cursor.execute("RELEASE SAVEPOINT command")
            session.expunge_all()
            raise
        cursor.execute("RELEASE SAVEPOINT command")
        return result
    finally:
        cursor.close()


def make_writer(
    engine: Engine, after_commit: AfterCommit, session_info: dict[str, Any] | None = None
) -> Writer:
    if engine.dialect.name == "sqlite":
        return BatchingWriter(engine, after_commit, session_info)
    return DirectWriter(engine, after_commit, session_info)


async def get_writer(request: Request) -> Writer:
    """`async` although it awaits nothing: a dependency without I/O runs on the event loop,
    where a plain `def` would cost every request a hop to a worker thread (so do the clock
    and the hub)."""
    writer: Writer = request.app.state.writer
    return writer


WriterDep = Annotated[Writer, Depends(get_writer)]
