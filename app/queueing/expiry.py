"""Tickets left open from an earlier local day become `expired`, so they never block today."""

from datetime import date, datetime

from sqlmodel import Session, col, select

from app.models import Clinic, Ticket
from app.models.ticket import OPEN_STATUSES
from app.queueing import events
from app.queueing.localday import local_date
from app.queueing.rows import TicketRow, open_before, save_tickets
from app.queueing.states import Action, step


def expire_before(
    session: Session, *, clinic_id: int, today: date, now: datetime
) -> list[TicketRow]:
    """Expire the clinic's open tickets dated before `today`; the caller commits."""
    stale = open_before(session, clinic_id, today)
    for ticket in stale:
        held_by = ticket.counter_id
        expired = step(ticket.status, Action.expire)
        ticket.status = expired.status
        ticket.finished_at = now
        events.record(
            session, ticket, expired.event, at=now, actor=events.SYSTEM, counter_id=held_by
        )
    if stale:
        save_tickets(session, *stale)
    return stale


# Where a writer's session finds, per clinic, the local day up to which this process has already
# expired what was left open (a dict clinic id -> date, lent by the app like the setups).
CLEARED_DAYS_INFO = "antrean_cleared_days"


def expire_if_day_ended(session: Session, *, clinic_id: int, today: date, now: datetime) -> None:
    """Expire what the clinic left open before `today`, once per clinic and day in this
    process (the first call-next of a day does it, the sweep does it anyway): afterwards no
    ticket of an earlier day can open again, so later calls need not look."""
    cleared: dict[int, date] | None = session.info.get(CLEARED_DAYS_INFO)
    if cleared is not None and cleared.get(clinic_id) == today:
        return
    expire_before(session, clinic_id=clinic_id, today=today, now=now)
    if cleared is not None:
        cleared[clinic_id] = today


def expire_stale_tickets(session: Session, *, clinic: Clinic, now: datetime) -> list[TicketRow]:
    assert clinic.id is not None
    today = local_date(now, clinic.timezone)
    return expire_before(session, clinic_id=clinic.id, today=today, now=now)


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
