"""Rows the service keeps for itself: daily number sequences, idempotency, its signing key."""

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import BigId, UTCDateTime, utcnow


class DailySequence(SQLModel, table=True):
    """Last ticket number given per issuing service and local day."""

    __tablename__ = "daily_sequence"

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    visit_date: date = Field(primary_key=True)
    last_number: int


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
