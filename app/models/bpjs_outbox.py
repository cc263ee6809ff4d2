"""The BPJS outbox: what Antrean owes BPJS about its bookings, written with the event it follows.

A row is written in the same transaction as the ticket event it reports (app/bpjs/outbox/plan.py)
and sent by the outbox worker (app/bpjs/outbox/deliver.py): in order per ticket, again after a
transient failure, until BPJS takes it or refuses it.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from app.models.base import BigId, StrEnumType, UTCDateTime


class OutboxKind(StrEnum):
    panggil = "panggil"  # antrean/panggil: status 1 hadir, 2 tidak hadir
    batal = "batal"  # antrean/batal


class OutboxState(StrEnum):
    pending = "pending"  # waiting for its turn (or its next attempt)
    sending = "sending"  # claimed by a worker until `lease_until`
    delivered = "delivered"
    failed = "failed"  # refused by BPJS (or not sendable): kept until an admin retries it


# A ticket's later row waits while an earlier one is in either of these.
UNFINISHED_STATES = (OutboxState.pending, OutboxState.sending)


class BpjsOutbox(SQLModel, table=True):
    __tablename__ = "bpjs_outbox"
    __table_args__ = (
        # The worker's claim: due rows by state and time.
        Index("ix_bpjs_outbox_due", "state", "next_attempt_at"),
        # Order per ticket: is an earlier row of the ticket unfinished?
        Index("ix_bpjs_outbox_ticket", "ticket_id", "id"),
        # The clinic admin's list, newest first.
        Index("ix_bpjs_outbox_clinic", "clinic_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    clinic_id: int = Field(foreign_key="clinic.id")
    ticket_id: int = Field(sa_column=Column(BigId, ForeignKey("ticket.id"), nullable=False))
    ticket_code: str = Field(max_length=16)
    kind: OutboxKind = Field(sa_column=Column(StrEnumType(OutboxKind), nullable=False))
    # panggil's status (1 hadir, 2 tidak hadir); None for batal.
    status: int | None = None
    # The body sent to BPJS, fixed when the event happened (a later change of the booking does
    # not rewrite what was reported).
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: OutboxState = Field(sa_column=Column(StrEnumType(OutboxState), nullable=False))
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, sa_column=Column(String(500)))


class OutboxItemPublic(SQLModel):
    """A row as the clinic admin sees it: the card number masked, the NIK never."""

    id: int
    ticket_id: int
    ticket_code: str
    kind: OutboxKind
    status: int | None
    nomorkartu: str
    tanggalperiksa: str
    kodepoli: str
    state: OutboxState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


class OutboxPage(SQLModel):
    items: list[OutboxItemPublic]
    # Counts by state over the clinic's whole outbox (not only this page).
    counts: dict[OutboxState, int]
