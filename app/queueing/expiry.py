"""Tickets left open from an earlier local day become `expired`, so they never block today."""

from datetime import date, datetime

from sqlmodel import Session, col, select

from app.models import Clinic, EventType, Ticket
from app.models.ticket import OPEN_STATUSES
from app.queueing import events
from app.queueing.localday import local_date
from app.queueing.states import Action, next_status


def expire_before(session: Session, *, clinic_id: int, today: date, now: datetime) -> list[Ticket]:
    """Expire the clinic's open tickets dated before `today`; the caller commits."""
    statement = (
        select(Ticket)
        .where(
            col(Ticket.clinic_id) == clinic_id,
            col(Ticket.status).in_(OPEN_STATUSES),
            col(Ticket.visit_date) < today,
        )
        .order_by(col(Ticket.id))
        .with_for_update(key_share=True)
    )
    stale = list(session.exec(statement))
    for ticket in stale:
        ticket.status = next_status(ticket.status, Action.expire)
        ticket.finished_at = now
        held_by = ticket.counter_id
        session.add(ticket)
        events.record(
            session, ticket, EventType.expired, at=now, actor=events.SYSTEM, counter_id=held_by
        )
    session.flush()
    return stale


def expire_stale_tickets(session: Session, *, clinic: Clinic, now: datetime) -> list[Ticket]:
    assert clinic.id is not None
    today = local_date(now, clinic.timezone)
    return expire_before(session, clinic_id=clinic.id, today=today, now=now)


def has_stale_tickets(session: Session, *, clinic: Clinic, now: datetime) -> bool:
    """Whether the clinic still has open tickets from an earlier local day (a read)."""
    statement = (
        select(col(Ticket.id))
        .where(
            col(Ticket.clinic_id) == clinic.id,
            col(Ticket.status).in_(OPEN_STATUSES),
            col(Ticket.visit_date) < local_date(now, clinic.timezone),
        )
        .limit(1)
    )
    return session.exec(statement).first() is not None


def clinics_with_ended_days(session: Session, now: datetime) -> list[int]:
    """Clinics that still have open tickets dated before their own local today."""
    found: list[int] = []
    for timezone in session.exec(select(Clinic.timezone).distinct()).all():
        today = local_date(now, timezone)
        found.extend(
            session.exec(
                select(Ticket.clinic_id)
                .join(Clinic, col(Clinic.id) == col(Ticket.clinic_id))
                .where(
                    col(Clinic.timezone) == timezone,
                    col(Ticket.status).in_(OPEN_STATUSES),
                    col(Ticket.visit_date) < today,
                )
                .distinct()
            ).all()
        )
    return sorted(found)
