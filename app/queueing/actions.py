"""What staff and patients do to tickets: call-next, recall, start, complete, no-show, requeue,
transfer, cancel. Each locks what it changes, follows the state machine and logs an event; a
refusal raises before anything is written. None commits: they run as commands of the writer
(app/writer.py), which commits.
"""

from datetime import date, datetime

from sqlmodel import Session, col, select

from app.models import EventType, Ticket, TicketStatus
from app.models.ticket import HELD_STATUSES, OPEN_STATUSES
from app.queueing import events
from app.queueing.errors import IllegalTransition, SameService, ServiceClosed, ServiceOfOtherClinic
from app.queueing.localday import local_date
from app.queueing.lookup import (
    counter_service_ids,
    get_clinic,
    get_counter,
    get_service,
    get_ticket,
)
from app.queueing.priority import queue_key
from app.queueing.states import Action, next_status


def _lock_current(session: Session, ticket_id: int, action: Action, now: datetime) -> Ticket:
    """Lock the ticket for an allowed action; refuse (409) without locking when it is not.

    Refusing before the lock matters on PostgreSQL: call-next passes over locked rows
    (SKIP LOCKED), so a refused action must not hold a waiting ticket even for an instant.
    """
    _ensure_allowed(session, get_ticket(session, ticket_id), action, now)
    ticket = get_ticket(session, ticket_id, lock=True)
    _ensure_allowed(session, ticket, action, now)  # it may have changed while we waited
    return ticket


def _ensure_allowed(session: Session, ticket: Ticket, action: Action, now: datetime) -> None:
    clinic = get_clinic(session, ticket.clinic_id)
    if ticket.visit_date < local_date(now, clinic.timezone) and ticket.status in OPEN_STATUSES:
        raise IllegalTransition(action.value.replace("_", "-"), "expired")
    next_status(ticket.status, action)


def _complete(session: Session, ticket: Ticket, *, now: datetime, actor: events.Actor) -> None:
    ticket.status = next_status(ticket.status, Action.complete)
    ticket.finished_at = now
    session.add(ticket)
    events.record(
        session, ticket, EventType.completed, at=now, actor=actor, counter_id=ticket.counter_id
    )


def _lock_first_waiting(session: Session, *, service_ids: list[int], today: date) -> Ticket | None:
    """The first waiting ticket in call order, locked; None when nobody waits.

    SKIP LOCKED passes over a waiting ticket that another transaction holds for a moment (being
    cancelled, or called by another counter). Before telling staff that nobody waits, wait for
    that one ticket's holder, inside a savepoint rolled back at once, and look again. A locking
    query that waits over several rows would instead keep its locks on the rows it passed that
    no longer wait (a ticket another counter has just called, which that counter's next
    call-next must lock): three counters calling at once on PostgreSQL deadlocked that way.
    Even SKIP LOCKED can keep such a lock, on a row called and committed between the query's
    snapshot and its lock; call-next therefore locks its own held ticket before coming here.
    """
    filters = (
        col(Ticket.service_id).in_(service_ids),
        col(Ticket.visit_date) == today,
        col(Ticket.status) == TicketStatus.waiting,
    )
    order = (col(Ticket.queue_key), col(Ticket.id))
    first_free = (
        select(Ticket)
        .where(*filters)
        .order_by(*order)
        .limit(1)
        .with_for_update(skip_locked=True, key_share=True)
        .execution_options(populate_existing=True)
    )
    while True:
        candidate = session.exec(first_free).first()
        if candidate is not None:
            return candidate
        held_elsewhere = session.exec(
            select(col(Ticket.id)).where(*filters).order_by(*order).limit(1)
        ).first()
        if held_elsewhere is None:
            return None
        savepoint = session.begin_nested()
        session.exec(
            select(col(Ticket.id))
            .where(col(Ticket.id) == held_elsewhere)
            .with_for_update(key_share=True)
        ).first()
        savepoint.rollback()  # releases the lock: only the wait was wanted


def call_next(
    session: Session, *, counter_id: int, actor: events.Actor, now: datetime
) -> Ticket | None:
    """Call the next waiting ticket to the counter, completing the one it holds first.

    Returns None, changing nothing, when nobody waits. Concurrent callers never get the same
    ticket: SQLite runs write transactions one at a time (BEGIN IMMEDIATE); on PostgreSQL the
    counter row is locked (one call at a time per counter) and the candidate is taken with
    FOR UPDATE SKIP LOCKED, so a second counter takes the next ticket instead of waiting.
    """
    clinic = get_clinic(session, get_counter(session, counter_id).clinic_id)
    get_counter(session, counter_id, lock=True)
    # The held ticket first: waiting for it (a stray lock from another counter's search, see
    # _lock_first_waiting) while holding the next ticket, which that counter may be waiting
    # for, would be a deadlock.
    held = session.exec(
        select(Ticket)
        .where(col(Ticket.counter_id) == counter_id, col(Ticket.status).in_(HELD_STATUSES))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()
    candidate = _lock_first_waiting(
        session,
        service_ids=counter_service_ids(session, counter_id),
        today=local_date(now, clinic.timezone),
    )
    if candidate is None:
        return None
    if held is not None:
        _complete(session, held, now=now, actor=actor)
        session.flush()
    candidate.status = next_status(candidate.status, Action.call)
    candidate.counter_id = counter_id
    candidate.called_at = candidate.called_at or now
    session.add(candidate)
    session.flush()
    events.record(session, candidate, EventType.called, at=now, actor=actor, counter_id=counter_id)
    return candidate


def recall(session: Session, *, ticket_id: int, actor: events.Actor, now: datetime) -> Ticket:
    ticket = _lock_current(session, ticket_id, Action.recall, now)
    ticket.status = next_status(ticket.status, Action.recall)
    ticket.recall_count += 1
    session.add(ticket)
    events.record(
        session, ticket, EventType.recalled, at=now, actor=actor, counter_id=ticket.counter_id
    )
    return ticket


def start(session: Session, *, ticket_id: int, actor: events.Actor, now: datetime) -> Ticket:
    ticket = _lock_current(session, ticket_id, Action.start, now)
    ticket.status = next_status(ticket.status, Action.start)
    ticket.started_at = now
    session.add(ticket)
    events.record(
        session, ticket, EventType.started, at=now, actor=actor, counter_id=ticket.counter_id
    )
    return ticket


def complete(session: Session, *, ticket_id: int, actor: events.Actor, now: datetime) -> Ticket:
    ticket = _lock_current(session, ticket_id, Action.complete, now)
    _complete(session, ticket, now=now, actor=actor)
    return ticket


def no_show(session: Session, *, ticket_id: int, actor: events.Actor, now: datetime) -> Ticket:
    ticket = _lock_current(session, ticket_id, Action.no_show, now)
    ticket.status = next_status(ticket.status, Action.no_show)
    session.add(ticket)
    events.record(
        session, ticket, EventType.no_show, at=now, actor=actor, counter_id=ticket.counter_id
    )
    return ticket


def requeue(session: Session, *, ticket_id: int, actor: events.Actor, now: datetime) -> Ticket:
    """A patient marked no-show turned up: back into the same queue, as of now (same leg)."""
    ticket = _lock_current(session, ticket_id, Action.requeue, now)
    ticket.status = next_status(ticket.status, Action.requeue)
    service = get_service(session, ticket.service_id)
    ticket.counter_id = None
    ticket.queue_key = queue_key(now, ticket.priority, service.priority_lead_minutes)
    session.add(ticket)
    events.record(session, ticket, EventType.requeued, at=now, actor=actor)
    return ticket


def transfer(
    session: Session, *, ticket_id: int, service_id: int, actor: events.Actor, now: datetime
) -> Ticket:
    """End this leg and queue the same ticket (same code) at another service of the clinic."""
    ticket = _lock_current(session, ticket_id, Action.transfer, now)
    target = get_service(session, service_id)
    if target.clinic_id != ticket.clinic_id:
        raise ServiceOfOtherClinic()
    if target.id == ticket.service_id:
        raise SameService()
    if not target.is_open:
        raise ServiceClosed()
    status = next_status(ticket.status, Action.transfer)
    from_service_id, from_counter_id = ticket.service_id, ticket.counter_id
    events.record(
        session,
        ticket,
        EventType.transferred,
        at=now,
        actor=actor,
        counter_id=from_counter_id,
        from_service_id=from_service_id,
        to_service_id=service_id,
    )
    ticket.status = status
    ticket.service_id = service_id
    ticket.leg += 1
    ticket.recall_count = 0  # counted per leg
    ticket.counter_id = None
    ticket.entered_at = now
    ticket.queue_key = queue_key(now, ticket.priority, target.priority_lead_minutes)
    ticket.called_at = ticket.started_at = None
    session.add(ticket)
    return ticket


def cancel(session: Session, *, ticket_id: int, actor: events.Actor, now: datetime) -> Ticket:
    ticket = _lock_current(session, ticket_id, Action.cancel, now)
    ticket.status = next_status(ticket.status, Action.cancel)
    ticket.finished_at = now
    session.add(ticket)
    events.record(session, ticket, EventType.cancelled, at=now, actor=actor)
    return ticket
