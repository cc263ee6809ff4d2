"""The database reads the feeds need, run in worker threads (sessions are synchronous)."""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth import secrets
from app.db import open_session
from app.models import Clinic, Service, Ticket
from app.models.ticket import TicketPublic
from app.queueing.queries import ticket_view
from app.realtime.hub import Message
from app.realtime.render import current_seq, render_events, snapshot

T = TypeVar("T")
# Threads the feeds may use at once, apart from the pool that serves HTTP requests: a burst of
# socket reads must never hold up staff pressing Next.
REALTIME_THREADS = 4


class DatabaseReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._limiter = CapacityLimiter(REALTIME_THREADS)

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        return await to_thread.run_sync(func, *args, limiter=self._limiter)

    def _snapshot_session(self) -> Session:
        """One consistent view for a starting point and its seq (PostgreSQL reads each
        statement afresh under READ COMMITTED; SQLite's read transaction is a snapshot)."""
        session = open_session(self.engine, write=False)
        if self.engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return session

    async def fetch_events(
        self, clinic_id: int, first: int, last: int, now: datetime
    ) -> list[Message]:
        return await self._run(self._fetch_events, clinic_id, first, last, now)

    def _fetch_events(self, clinic_id: int, first: int, last: int, now: datetime) -> list[Message]:
        with open_session(self.engine, write=False) as session:
            return render_events(session, clinic_id, first, last, now)

    async def current_seqs(self, clinic_ids: list[int]) -> dict[int, int]:
        return await self._run(self._current_seqs, clinic_ids)

    def _current_seqs(self, clinic_ids: list[int]) -> dict[int, int]:
        with open_session(self.engine, write=False) as session:
            return current_seq(session, clinic_ids)

    async def display_start(
        self, clinic_id: int, since: int | None, replay_limit: int, now: datetime
    ) -> tuple[int, list[Message]] | None:
        """(seq, first messages): what was missed since `since`, or a snapshot."""
        return await self._run(self._display_start, clinic_id, since, replay_limit, now)

    def _display_start(
        self, clinic_id: int, since: int | None, replay_limit: int, now: datetime
    ) -> tuple[int, list[Message]] | None:
        with self._snapshot_session() as session:
            clinic = session.get(Clinic, clinic_id)
            if clinic is None:
                return None
            seq = current_seq(session, [clinic_id]).get(clinic_id, 0)
            if since is not None and 0 <= seq - since <= replay_limit:
                return seq, render_events(session, clinic_id, since + 1, seq, now)
            first = snapshot(session, clinic, now)
            return first["seq"], [first]

    async def ticket_clinic(self, ticket_id: int, token: str) -> int | None:
        """The ticket's clinic when the token is right, else None."""
        return await self._run(self._ticket_clinic, ticket_id, token)

    def _ticket_clinic(self, ticket_id: int, token: str) -> int | None:
        with open_session(self.engine, write=False) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                secrets.matches(token, "0" * 64)
                return None
            return ticket.clinic_id if secrets.matches(token, ticket.token_digest) else None

    async def ticket_state(self, ticket_id: int) -> tuple[int, TicketPublic]:
        return await self._run(self._ticket_state, ticket_id)

    def _ticket_state(self, ticket_id: int) -> tuple[int, TicketPublic]:
        with self._snapshot_session() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            clinic = session.get(Clinic, ticket.clinic_id)
            service = session.get(Service, ticket.service_id)
            assert clinic is not None
            assert service is not None
            seq = current_seq(session, [ticket.clinic_id]).get(ticket.clinic_id, 0)
            return seq, ticket_view(session, ticket, clinic, service)
