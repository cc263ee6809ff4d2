"""The outbox rows' life after they are written: claimed with a lease, settled, retried.

Each step is a short transaction of its own, apart from the queue's writer, so BPJS being slow
or down never holds a lock the queue needs. A claim takes due rows (pending and due, or sending
with a lapsed lease: their sender died) whose ticket has no earlier row unfinished, so a
ticket's rows go out one after another in the order they were written. Several server
processes claim side by side: on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps them off each
other's rows; SQLite runs one writing transaction at a time.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, exists, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.db import open_session
from app.models import BpjsOutbox, OutboxKind, OutboxState
from app.models.bpjs_outbox import UNFINISHED_STATES

# A sender has this long to settle a row before another may send it again: well above the
# client's own timeout, so a slow answer is not sent twice while it is still coming.
LEASE = timedelta(seconds=120)
FIRST_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 600.0
LAST_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    clinic_id: int
    ticket_id: int
    kind: OutboxKind
    payload: dict[str, Any]
    attempts: int  # this attempt's number (1 for the first)


@dataclass(frozen=True, slots=True)
class Settled:
    """How an attempt ended: delivered, refused by BPJS (`failed`), or to try again later."""

    claimed: Claimed
    state: OutboxState  # delivered, failed, or pending (transient)
    error: str | None = None


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential (5 s, 10 s, 20 s, … capped at 10 minutes) with jitter: between half of it
    and all of it, so the rows BPJS's outage held back do not all come back at once."""
    ceiling = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def claim_due(engine: Engine, now: datetime, *, limit: int = 50) -> list[Claimed]:
    """Take up to `limit` due rows for `LEASE`, oldest first."""
    with open_session(engine, write=True) as session:
        ids = list(session.execute(_due(session, now, limit)).scalars())
        if not ids:
            session.rollback()
            return []
        session.execute(
            update(BpjsOutbox)
            .where(col(BpjsOutbox.id).in_(ids))
            .values(
                state=OutboxState.sending,
                lease_until=now + LEASE,
                attempts=col(BpjsOutbox.attempts) + 1,
            )
        )
        rows = session.execute(
            select(
                col(BpjsOutbox.id),
                col(BpjsOutbox.clinic_id),
                col(BpjsOutbox.ticket_id),
                col(BpjsOutbox.kind),
                col(BpjsOutbox.payload),
                col(BpjsOutbox.attempts),
            )
            .where(col(BpjsOutbox.id).in_(ids))
            .order_by(col(BpjsOutbox.id))
        ).all()
        session.commit()
    return [Claimed(*row) for row in rows]


def _due(session: Session, now: datetime, limit: int) -> Any:
    table: Any = BpjsOutbox.__table__  # type: ignore[attr-defined]
    earlier = aliased(table)
    waits_for_earlier = exists().where(
        earlier.c.ticket_id == table.c.ticket_id,
        earlier.c.id < table.c.id,
        earlier.c.state.in_(UNFINISHED_STATES),
    )
    query = (
        select(table.c.id)
        .where(
            or_(
                and_(table.c.state == OutboxState.pending, table.c.next_attempt_at <= now),
                and_(table.c.state == OutboxState.sending, table.c.lease_until <= now),
            ),
            ~waits_for_earlier,
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=table)
    return query


def settle(engine: Engine, outcomes: list[Settled], now: datetime) -> None:
    """Record how the attempts ended, each only if the row is still this attempt's (a lease
    that lapsed meanwhile let another sender take it: its outcome is the one that counts)."""
    if not outcomes:
        return
    with open_session(engine, write=True) as session:
        for outcome in outcomes:
            claimed = outcome.claimed
            values: dict[str, Any] = {"state": outcome.state, "lease_until": None}
            if outcome.state is OutboxState.delivered:
                values |= {"delivered_at": now, "last_error": None}
            else:
                values["last_error"] = (outcome.error or "")[:LAST_ERROR_LENGTH] or None
            if outcome.state is OutboxState.pending:
                later = timedelta(seconds=backoff_seconds(claimed.attempts))
                values["next_attempt_at"] = now + later
            session.execute(
                update(BpjsOutbox)
                .where(
                    col(BpjsOutbox.id) == claimed.id,
                    col(BpjsOutbox.state) == OutboxState.sending,
                    col(BpjsOutbox.attempts) == claimed.attempts,
                )
                .values(**values)
            )
        session.commit()
