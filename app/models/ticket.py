"""Ticket (antrean): one patient's visit on one local day, through one or more service legs."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import BigId, StrEnumType, UTCDateTime, utcnow
from app.models.types import Id


class TicketStatus(StrEnum):
    waiting = "waiting"
    called = "called"
    serving = "serving"
    done = "done"
    cancelled = "cancelled"
    no_show = "no_show"
    expired = "expired"


HELD_STATUSES = (TicketStatus.called, TicketStatus.serving)
OPEN_STATUSES = (
    TicketStatus.waiting,
    TicketStatus.called,
    TicketStatus.serving,
    TicketStatus.no_show,
)


class Priority(StrEnum):
    none = "none"
    elderly = "elderly"
    pregnant = "pregnant"
    disabled = "disabled"
    child = "child"


class Channel(StrEnum):
    kiosk = "kiosk"
    phone = "phone"
    staff = "staff"
    bpjs = "bpjs"


_HELD_SQL = text("status IN ('called', 'serving')")


def _utc_column(nullable: bool = True) -> Column[datetime]:
    return Column(UTCDateTime, nullable=nullable)


class Ticket(SQLModel, table=True):
    __table_args__ = (
        # Numbering: one number per clinic, issuing service and local day (prefixes are per clinic).
        UniqueConstraint("origin_service_id", "visit_date", "number"),
        # A counter holds at most one ticket at a time.
        Index(
            "uq_ticket_counter_held",
            "counter_id",
            unique=True,
            sqlite_where=_HELD_SQL,
            postgresql_where=_HELD_SQL,
        ),
        # Call order within a service's day: a first waiting ticket is one index probe, read in
        # call order (the id breaks ties), never a sort of the queue.
        Index("ix_ticket_queue", "service_id", "visit_date", "status", "queue_key", "id"),
        Index("ix_ticket_clinic_open", "clinic_id", "status", "visit_date"),
        Index("ix_ticket_status_date", "status", "visit_date"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    clinic_id: int = Field(foreign_key="clinic.id")
    service_id: int = Field(foreign_key="service.id")
    origin_service_id: int = Field(foreign_key="service.id")
    counter_id: int | None = Field(default=None, foreign_key="counter.id")
    visit_date: date
    number: int
    code: str = Field(max_length=16)
    status: TicketStatus = Field(sa_column=Column(StrEnumType(TicketStatus), nullable=False))
    priority: Priority = Field(sa_column=Column(StrEnumType(Priority), nullable=False))
    channel: Channel = Field(sa_column=Column(StrEnumType(Channel), nullable=False))
    leg: int = 1
    recall_count: int = 0
    issued_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(False))
    # When the current leg began (issue or transfer in).
    entered_at: datetime = Field(sa_column=_utc_column(False))
    # Call order within the service: when it (re)joined the queue, earlier by the priority lead.
    queue_key: datetime = Field(sa_column=_utc_column(False))
    called_at: datetime | None = Field(default=None, sa_column=_utc_column())
    started_at: datetime | None = Field(default=None, sa_column=_utc_column())
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column())
    estimate_at_issue_min: int | None = None
    token_digest: str = Field(max_length=64)


class TicketCreate(SQLModel):
    service_id: Id
    priority: Priority = Priority.none


class TransferRequest(SQLModel):
    service_id: Id


class TicketPublic(SQLModel):
    id: int
    clinic_id: int
    service_id: int
    counter_id: int | None
    number: int
    code: str
    status: TicketStatus
    priority: Priority
    channel: Channel
    visit_date: date
    leg: int
    recall_count: int
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    position: int | None
    # As of now, while the ticket waits (app/queueing/estimate.py); None once it is called.
    estimated_wait_minutes: int | None
    # The estimate given when the ticket was issued, kept (the first leg's, not a transfer's).
    estimate_at_issue_minutes: int | None = None


class TicketCreated(TicketPublic):
    token: str
