"""The outbox rows' life after they are written: claimed with a lease, then settled.

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

from sqlalchemy import Connection, Engine, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import aliased

from app.db import WRITE_OPTION
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


_TABLE: Any = BpjsOutbox.__table__  # type: ignore[attr-defined]
_RETURNED = (
    _TABLE.c.id,
    _TABLE.c.clinic_id,
    _TABLE.c.ticket_id,
    _TABLE.c.kind,
    _TABLE.c.payload,
    _TABLE.c.attempts,
)


def _claim_statement(postgresql: bool) -> Any:
    """Take the due rows whose ticket waits for no earlier row, oldest first, in one statement
    (built once per database kind: building it costs more than running it)."""
    earlier = aliased(_TABLE)
    waits_for_earlier = exists().where(
        earlier.c.ticket_id == _TABLE.c.ticket_id,
        earlier.c.id < _TABLE.c.id,
        earlier.c.state.in_(UNFINISHED_STATES),
    )
    due = (
        select(_TABLE.c.id)
        .where(
            or_(
                and_(
                    _TABLE.c.state == OutboxState.pending,
                    _TABLE.c.next_attempt_at <= bindparam("now"),
                ),
                and_(
                    _TABLE.c.state == OutboxState.sending,
                    _TABLE.c.lease_until <= bindparam("now"),
                ),
            ),
            ~waits_for_earlier,
        )
        .order_by(_TABLE.c.id)
        .limit(bindparam("limit"))
    )
    if postgresql:
        due = due.with_for_update(skip_locked=True, of=_TABLE)
    return (
        update(_TABLE)
        .where(_TABLE.c.id.in_(due))
        .values(
            state=OutboxState.sending,
            lease_until=bindparam("lease_until"),
            attempts=_TABLE.c.attempts + 1,
        )
        .returning(*_RETURNED)
    )


_CLAIMS = {False: _claim_statement(False), True: _claim_statement(True)}

# How an attempt ended, written only if the row is still this attempt's (a lease that lapsed
# meanwhile let another sender take it: its outcome is the one that counts).
_SETTLE = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("row_id"),
        _TABLE.c.state == OutboxState.sending,
        _TABLE.c.attempts == bindparam("attempt"),
    )
    .values(
        state=bindparam("new_state"),
        lease_until=None,
        delivered_at=bindparam("delivered_at"),
        last_error=bindparam("error"),
        next_attempt_at=bindparam("next_at"),
    )
)


def _writing(engine: Engine) -> Any:
    """A transaction of its own (on SQLite, BEGIN IMMEDIATE: it writes)."""
    return engine.execution_options(**{WRITE_OPTION: True}).begin()


def _claim(connection: Connection, now: datetime, limit: int) -> list[Claimed]:
    postgresql = connection.dialect.name == "postgresql"
    rows = connection.execute(
        _CLAIMS[postgresql], {"now": now, "limit": limit, "lease_until": now + LEASE}
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda claimed: claimed.id)


def claim_due(engine: Engine, now: datetime, *, limit: int = 50) -> list[Claimed]:
    """Take up to `limit` due rows for `LEASE`, oldest first."""
    with _writing(engine) as connection:
        return _claim(connection, now, limit)


def settle(
    engine: Engine, outcomes: list[Settled], now: datetime, *, claim_next: int = 0
) -> list[Claimed]:
    """Record how the attempts ended, and (with `claim_next`) claim the next due rows in the
    same transaction: what a ticket's delivered row let go is taken at once."""
    with _writing(engine) as connection:
        if outcomes:
            connection.execute(_SETTLE, [_settled_values(outcome, now) for outcome in outcomes])
        return _claim(connection, now, claim_next) if claim_next else []


def _settled_values(outcome: Settled, now: datetime) -> dict[str, Any]:
    claimed = outcome.claimed
    delivered = outcome.state is OutboxState.delivered
    error = None if delivered else (outcome.error or "")[:LAST_ERROR_LENGTH] or None
    later = 0.0
    if outcome.state is OutboxState.pending:
        later = backoff_seconds(claimed.attempts)
    return {
        "row_id": claimed.id,
        "attempt": claimed.attempts,
        "new_state": outcome.state,
        "delivered_at": now if delivered else None,
        "error": error,
        "next_at": now + timedelta(seconds=later),
    }
