"""The append-only ticket event log: every report derives from it."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import BigId, StrEnumType, UTCDateTime


class EventType(StrEnum):
    issued = "issued"
    called = "called"
    recalled = "recalled"
    started = "started"
    completed = "completed"
    no_show = "no_show"
    requeued = "requeued"
    transferred = "transferred"
    cancelled = "cancelled"
    expired = "expired"


class TicketEvent(SQLModel, table=True):
    __tablename__ = "ticket_event"
    __table_args__ = (
        # `seq` numbers a clinic's events 1, 2, 3, … (the realtime feeds' sequence).
        UniqueConstraint("clinic_id", "seq"),
        Index("ix_ticket_event_ticket", "ticket_id", "id"),
        Index("ix_ticket_event_clinic_at", "clinic_id", "at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    clinic_id: int = Field(foreign_key="clinic.id")
    seq: int
    ticket_id: int = Field(sa_column=Column(BigId, ForeignKey("ticket.id"), nullable=False))
    type: EventType = Field(sa_column=Column(StrEnumType(EventType), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    leg: int
    # The service of the leg the event belongs to (for a transfer: the one it leaves).
    service_id: int = Field(foreign_key="service.id")
    counter_id: int | None = Field(default=None, foreign_key="counter.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    device_id: int | None = Field(default=None, foreign_key="device.id")
    from_service_id: int | None = Field(default=None, foreign_key="service.id")
    to_service_id: int | None = Field(default=None, foreign_key="service.id")


@dataclass(slots=True)
class EventRow:
    """An event as the write path records it (the columns of `ticket_event`), plain: it is
    numbered (`seq`) and inserted when its transaction ends (app/queueing/events.py), then
    handed to the after-commit consumers as it is."""

    clinic_id: int
    ticket_id: int
    type: EventType
    at: datetime
    leg: int
    service_id: int
    seq: int = 0  # 0 until numbered
    counter_id: int | None = None
    user_id: int | None = None
    device_id: int | None = None
    from_service_id: int | None = None
    to_service_id: int | None = None
    id: int | None = None
    # Not stored: the waiting count of each service whose queue this event changed, right
    # after it (the displays' counts).
    waiting: dict[int, int] = field(default_factory=dict)
