"""Rows the service keeps for itself: daily number sequences, idempotency, its signing key."""

from datetime import date, datetime

from sqlalchemy import Column, Float, ForeignKey, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import BigId, UTCDateTime, utcnow


class DailySequence(SQLModel, table=True):
    """Per service and local day: the last ticket number given, how many tickets wait, and
    the service's recent service time.

    `waiting` is kept by every change that moves a ticket into or out of the waiting queue
    (app/queueing/numbering.py), so a new ticket's position costs no count over the queue.
    `mean_service_seconds` is a moving mean of the day's service times in the service, moved
    by every leg served there; the wait estimates read it with the number. A transfer-only
    service has a row too (last_number 0) once a ticket is sent to it.

    The wait estimator's pace (app/queueing/estimate.py), moved by each call: `gap_seconds`,
    a moving mean of the intervals between calls while someone waited, and `gaps` how many;
    `busy_since`, the last call when someone still waited after it; `last_call_at` and
    `first_call_at`; moved by each ticket joining: `join_gap_seconds`, a moving mean of the
    intervals between joins, `priority_share`, a moving share of priority tickets among them,
    `last_join_at`. Moments are epoch seconds, so that SQLite and PostgreSQL subtract them
    alike.
    """

    __tablename__ = "daily_sequence"

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    visit_date: date = Field(primary_key=True)
    last_number: int
    waiting: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    mean_service_seconds: float | None = Field(default=None, sa_column=Column(Float))
    gap_seconds: float | None = Field(default=None, sa_column=Column(Float))
    gaps: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    busy_since: float | None = Field(default=None, sa_column=Column(Float))
    last_call_at: float | None = Field(default=None, sa_column=Column(Float))
    first_call_at: float | None = Field(default=None, sa_column=Column(Float))
    join_gap_seconds: float | None = Field(default=None, sa_column=Column(Float))
    priority_share: float | None = Field(default=None, sa_column=Column(Float))
    last_join_at: float | None = Field(default=None, sa_column=Column(Float))


class IdempotencyRecord(SQLModel, table=True):
    """The answer given to a ticket request, replayed when the same key comes again.

    Neither the key nor the ticket's token is stored in clear: the key as a digest, the token
    sealed with a cipher key derived from the Idempotency-Key (see queueing/idempotency.py).
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key_digest"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    scope: str = Field(max_length=64)
    key_digest: str = Field(max_length=64)
    request_digest: str = Field(max_length=64)
    ticket_id: int = Field(sa_column=Column(BigId, ForeignKey("ticket.id"), nullable=False))
    response: str = Field(sa_column=Column(Text, nullable=False))
    sealed_token: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True)
    )


class ServerSecret(SQLModel, table=True):
    __tablename__ = "server_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)
