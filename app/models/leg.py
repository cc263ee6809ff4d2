"""Ticket legs: a ticket's stay in one service, derived from the event log for the reports.

A leg begins when the ticket enters a service's queue (issue, or transfer in) and ends with
its outcome. The row is written from each event in the event's own transaction (see
app/queueing/legs.py), so it is never out of step with the log; `rebuild_legs` derives the
same rows from the log alone, and a test holds the two equal.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import BigId, StrEnumType, UTCDateTime


class LegOutcome(StrEnum):
    done = "done"
    transferred = "transferred"
    no_show = "no_show"
    cancelled = "cancelled"
    expired = "expired"


SERVED_OUTCOMES = (LegOutcome.done, LegOutcome.transferred)


class TicketLeg(SQLModel, table=True):
    __tablename__ = "ticket_leg"
    __table_args__ = (
        UniqueConstraint("ticket_id", "leg"),
        # Reports: one clinic over a period, and every clinic over a period.
        Index("ix_ticket_leg_clinic_date", "clinic_id", "visit_date"),
        Index("ix_ticket_leg_date", "visit_date"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    ticket_id: int = Field(sa_column=Column(BigId, ForeignKey("ticket.id"), nullable=False))
    leg: int
    clinic_id: int = Field(foreign_key="clinic.id")
    service_id: int = Field(foreign_key="service.id")
    visit_date: date
    # The local hour (0-23, clinic's timezone) the leg began in: the reports' "hour of day".
    entered_hour: int
    entered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    first_called_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    outcome: LegOutcome | None = Field(default=None, sa_column=Column(StrEnumType(LegOutcome)))
    # The counter of the leg's latest call: where it was served (or last called).
    counter_id: int | None = Field(default=None, foreign_key="counter.id")
    recalls: int = 0
    # Seconds, kept so reports aggregate numbers instead of timestamps on either database.
    wait_seconds: float | None = None
    service_seconds: float | None = None
    # The service's target when the leg began: later changes do not rewrite history.
    target_wait_minutes: int | None = None
