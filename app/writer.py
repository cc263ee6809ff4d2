"""One writer per process and database: every state change is a command handed to it.

A command is a function of a Session that reads, checks, writes and returns its answer (built
from what it wrote), without committing: the writer commits. After each COMMIT, what it made
permanent goes to `AfterCommit` (app/after_commit.py), in commit order.

`BatchingWriter`, group commit: the commands that queued while the previous commit ran go into
one transaction, each inside a SAVEPOINT of its own, and are committed together (one fsync, one
WAL flush). A command that raises is rolled back to its savepoint alone: its caller gets the
exception, what it recorded is dropped, and the others commit. Every caller is answered only
after the COMMIT holding its work has returned (SQLite: WAL with synchronous=FULL), so a 2xx is
durable. On SQLite the commands themselves run on the event loop, between a BEGIN IMMEDIATE and
a COMMIT run on the writer's own thread: a statement there is a few microseconds of work in the
page cache, and a thread of their own would hand the interpreter's lock back and forth with the
event loop at every statement (measured: a batch took six times its work). The waits, for
another process's write lock and for the disk, stay off the loop.

On PostgreSQL (`ANTREAN_POSTGRES_WRITER`, measurements in docs/write-path.md), statements wait
on the network, so transactions run on writer threads: "batch" (the default), several
`BatchingWriter`s side by side, a command going to the one its key (the clinic) picks, so one
clinic's commands are batched together and different clinics' run at once; "direct", a
transaction per command in the caller's worker thread, concurrently with the others. Row locks
keep transactions apart either way.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.after_commit import TRANSACTION, AfterCommit, Commit, take_pending
from app.db import WriteLockBusy, make_engine, open_session
from app.prepared import driver_connection, lend_connection
from app.queueing.events import end_command, end_transaction
from app.unavailable import ping_when_idle

log = logging.getLogger(__name__)

T = TypeVar("T")
Command = Callable[[Session], T]

MAX_BATCH = 256
# PostgreSQL breaks a deadlock by failing one transaction's statement: its work runs again.
DEADLOCK_DETECTED = "40P01"
DEADLOCK_RETRIES = 3


class Writer:
    """The interface the routes use: `arun` from the event loop, `run` from a worker thread.

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
        options: dict[str, Any] = {"pool_size": self.pool_size, "max_overflow": 0}
        if engine.dialect.name == "postgresql":
            # No ping per checkout (a round trip on every transaction): a connection lost
            # fails its transaction, which the pool then replaces.
            options["pool_pre_ping"] = False
        self.write_engine = make_engine(engine.url.render_as_string(hide_password=False), **options)
        if engine.dialect.name == "postgresql":  # but one dropped while idle (a restart) is
            ping_when_idle(self.write_engine)  # replaced before a command fails on it

    def start(self) -> None:
        """Called on the event loop the writer serves."""
        self.after_commit.start()

    async def stop(self) -> None:
        self.after_commit.stop()
        self.write_engine.dispose()

    def run(self, command: Command[T], *, key: int = 0) -> T:
        """From a worker thread. `key` (the clinic, where the caller knows it) keeps one
        clinic's commands together where there are several writers."""
        raise NotImplementedError

    async def arun(self, command: Command[T], *, key: int = 0) -> T:
        raise NotImplementedError

    def _open(self, *, nowait: bool = False) -> Session:
        """A write session with its transaction begun (on SQLite: BEGIN IMMEDIATE, which may
        wait for another process's write lock; with `nowait`, WriteLockBusy instead)."""
        session = open_session(self.write_engine, write=True, info=self.session_info, nowait=nowait)
        try:
            lend_connection(session)
        except BaseException:
            session.close()
            raise
        return session


def _lost_a_deadlock(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == DEADLOCK_DETECTED


class DirectWriter(Writer):
    """A transaction per command, in the calling thread (PostgreSQL)."""

    pool_size = 20

    def run(self, command: Command[T], *, key: int = 0) -> T:  # noqa: ARG002 (one writer)
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                with self._open() as session:
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

    async def arun(self, command: Command[T], *, key: int = 0) -> T:  # noqa: ARG002
        return await run_in_threadpool(self.run, command)


@dataclass
class _Job:
    command: Command[Any]
    future: "asyncio.Future[Any]"
    attempts: int = 0


@dataclass
class _Batch:
    """One transaction's commands as they ran: answered, refused, or to run again."""

    commit: Commit
    answered: list[tuple[_Job, Any]]
    refused: list[tuple[_Job, BaseException]]
    again: list[_Job]


class BatchingWriter(Writer):
    """Group commit; `on_loop`: the commands run on the event loop (SQLite), else on the
    writer's thread with the BEGIN and the COMMIT (PostgreSQL)."""

    def __init__(
        self,
        engine: Engine,
        after_commit: AfterCommit,
        session_info: dict[str, Any] | None = None,
        *,
        on_loop: bool,
        max_batch: int = MAX_BATCH,
    ) -> None:
        super().__init__(engine, after_commit, session_info)
        self.on_loop = on_loop
        self.max_batch = max_batch
        self._pending: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        # One thread: the transaction's BEGIN, COMMIT (and, off the loop, its commands).
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
        # Batch sizes, for the benchmarks and the tests: commits made and commands in them.
        self.commits = 0
        self.commands = 0

    def start(self) -> None:
        super().start()
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    async def stop(self) -> None:
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)
        self._thread.shutdown(wait=True)
        await super().stop()

    async def arun(self, command: Command[T], *, key: int = 0) -> T:  # noqa: ARG002 (one)
        if self._loop is None:
            raise RuntimeError("the writer is not running")
        if asyncio.get_running_loop() is not self._loop:  # another loop (a test's second client)
            handed = asyncio.run_coroutine_threadsafe(self.arun(command), self._loop)
            return await asyncio.wrap_future(handed)
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.append(_Job(command, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = self._loop.create_task(self._drain())
        return await future

    def run(self, command: Command[T], *, key: int = 0) -> T:  # noqa: ARG002 (one writer)
        """From a worker thread (never from the event loop, which it would block)."""
        if self._loop is None:
            raise RuntimeError("the writer is not running")
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("Writer.run called on the event loop: await arun instead")
        return asyncio.run_coroutine_threadsafe(self.arun(command), self._loop).result()

    async def _drain(self) -> None:
        """Commit batches until nobody waits: each batch is what queued meanwhile."""
        loop = asyncio.get_running_loop()
        while self._pending:
            jobs, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                if self.on_loop:
                    session = await self._begin_on_loop(loop)
                    try:
                        batch = self._execute(session, jobs)
                    except BaseException:
                        await loop.run_in_executor(self._thread, session.close)
                        raise
                    await loop.run_in_executor(self._thread, _commit, session)
                else:
                    batch = await loop.run_in_executor(self._thread, self._execute_and_commit, jobs)
            except Exception as exc:  # the transaction failed: nobody's work was committed
                log.exception("group commit of %d commands failed", len(jobs))
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            self.commits += 1
            self.commands += len(batch.answered)
            self.after_commit.deliver(batch.commit)
            for job, result in batch.answered:
                if not job.future.done():
                    job.future.set_result(result)
            for job, error in batch.refused:
                if not job.future.done():
                    job.future.set_exception(error)
            self._pending[:0] = batch.again

    async def _begin_on_loop(self, loop: asyncio.AbstractEventLoop) -> Session:
        """The transaction begun on the loop when nobody else holds the write lock (always, in
        a serving process of its own); else waited for on the writer's thread."""
        try:
            return self._open(nowait=True)
        except WriteLockBusy:
            return await loop.run_in_executor(self._thread, self._open)

    def _execute_and_commit(self, jobs: list[_Job]) -> _Batch:
        with self._open() as session:
            batch = self._execute(session, jobs)
            _commit(session)
            return batch

    def _execute(self, session: Session, jobs: list[_Job]) -> _Batch:
        """Each command in a savepoint of its own, then the transaction's last writes."""
        batch = _Batch(Commit(), [], [], [])
        driver, _ = driver_connection(session)
        session.info[TRANSACTION] = batch.commit  # what each command's predecessors began
        for job in jobs:
            if job.future.done():  # its caller has gone (cancelled)
                continue
            try:
                result = _in_savepoint(session, driver, job.command)
            except Exception as exc:
                take_pending(session)  # what a refused command recorded never happened
                if _lost_a_deadlock(exc) and job.attempts < DEADLOCK_RETRIES:
                    job.attempts += 1  # after this commit has let go of our locks
                    batch.again.append(job)
                else:
                    batch.refused.append((job, exc))
                continue
            batch.commit.extend(take_pending(session))
            batch.answered.append((job, result))
        end_transaction(session, batch.commit)
        return batch


def _commit(session: Session) -> None:
    with session:
        session.commit()


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


class PartitionedWriter(Writer):
    """Several batching writers side by side (PostgreSQL); a command goes to the one its key
    picks. With the clinic as key, a clinic's commands are batched in one transaction and
    never wait for another clinic's; the rows two writers' transactions share (rollups of
    different clinics never are) are locked in one order at the end (app/queueing/events.py)."""

    def __init__(
        self,
        engine: Engine,
        after_commit: AfterCommit,
        session_info: dict[str, Any] | None = None,
        *,
        partitions: int,
    ) -> None:
        self.engine = engine
        self.after_commit = after_commit
        self.parts = [
            BatchingWriter(engine, after_commit, session_info, on_loop=False)
            for _ in range(partitions)
        ]

    def start(self) -> None:
        for part in self.parts:
            part.start()

    async def stop(self) -> None:
        for part in self.parts:
            await part.stop()

    def run(self, command: Command[T], *, key: int = 0) -> T:
        return self.parts[key % len(self.parts)].run(command)

    async def arun(self, command: Command[T], *, key: int = 0) -> T:
        return await self.parts[key % len(self.parts)].arun(command)

    @property
    def commits(self) -> int:
        return sum(part.commits for part in self.parts)


def make_writer(
    engine: Engine,
    after_commit: AfterCommit,
    session_info: dict[str, Any] | None = None,
    *,
    postgres_writer: str = "batch",
    postgres_writers: int = 1,
) -> Writer:
    if engine.dialect.name == "sqlite":
        return BatchingWriter(engine, after_commit, session_info, on_loop=True)
    if postgres_writer == "direct":
        return DirectWriter(engine, after_commit, session_info)
    if postgres_writers == 1:
        return BatchingWriter(engine, after_commit, session_info, on_loop=False)
    return PartitionedWriter(engine, after_commit, session_info, partitions=postgres_writers)


async def get_writer(request: Request) -> Writer:
    """`async` although it awaits nothing: a dependency without I/O runs on the event loop,
    where a plain `def` would cost every request a hop to a worker thread (so do the clock
    and the hub)."""
    writer: Writer = request.app.state.writer
    return writer


WriterDep = Annotated[Writer, Depends(get_writer)]
