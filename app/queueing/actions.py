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
from app.queueing.errors import IllegalTransition, SameService, ServiceClosed
from app.queueing.localday import local_date
from app.queueing.lookup import clinic_setup, counter_setup, get_counter, get_ticket, service_in
from app.queueing.numbering import shift_waiting
from app.queueing.priority import queue_key
from app.queueing.states import Action, next_status


def _lock_current(session: Session, ticket_id: int, action: Action, now: datetime) -> Ticket:
    """Lock the ticket for an allowed action; refuse (409) without locking when it is not.

    Refusing before the lock matters on PostgreSQL: call-next passes over locked rows
    (SKIP LOCKED), so a refused action must not hold a waiting ticket even for an instant.
    """
    ticket = get_ticket(session, ticket_id)
    _ensure_allowed(session, ticket, action, now)
    if _one_writer(session):
        return ticket  # read inside the write transaction: nobody else can change it
    ticket = get_ticket(session, ticket_id, lock=True)
    _ensure_allowed(session, ticket, action, now)  # it may have changed while we waited
    return ticket


def _one_writer(session: Session) -> bool:
    """SQLite: write transactions run one at a time, so row locks are moot."""
    return session.get_bind().dialect.name == "sqlite"


# Per ticket, the waiting count of its service right after a command queued it (requeue,
# transfer): the command's answer then computes the position without counting the queue.
WAITING_AFTER = "antrean_waiting_after"


def waiting_after(session: Session, ticket: Ticket) -> int | None:
    found: dict[int, int] = session.info.get(WAITING_AFTER, {})
    return found.get(ticket.id or 0)


def _queued(session: Session, ticket: Ticket, service_id: int) -> None:
    """The ticket enters `service_id`'s queue: count it (before the event takes the clinic
    row, see app/queueing/numbering.py)."""
    waiting = shift_waiting(session, service_id=service_id, visit_date=ticket.visit_date, by=1)
    session.info.setdefault(WAITING_AFTER, {})[ticket.id] = waiting


def _ensure_allowed(session: Session, ticket: Ticket, action: Action, now: datetime) -> None:
    clinic = clinic_setup(session, ticket.clinic_id).clinic
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
    setup = counter_setup(session, counter_id)
    if not _one_writer(session):
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
        service_ids=list(setup.counter_services.get(counter_id, ())),
        today=local_date(now, setup.clinic.timezone),
    )
    if candidate is None:
        return None
    shift_waiting(session, service_id=candidate.service_id, visit_date=candidate.visit_date, by=-1)
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
    service = service_in(session, clinic_setup(session, ticket.clinic_id), ticket.service_id)
    ticket.counter_id = None
    ticket.queue_key = queue_key(now, ticket.priority, service.priority_lead_minutes)
    session.add(ticket)
    _queued(session, ticket, ticket.service_id)
    events.record(session, ticket, EventType.requeued, at=now, actor=actor)
    return ticket


def transfer(
    session: Session, *, ticket_id: int, service_id: int, actor: events.Actor, now: datetime
) -> Ticket:
    """End this leg and queue the same ticket (same code) at another service of the clinic."""
    ticket = _lock_current(session, ticket_id, Action.transfer, now)
    target = service_in(session, clinic_setup(session, ticket.clinic_id), service_id)
    if target.id == ticket.service_id:
        raise SameService()
    if not target.is_open:
        raise ServiceClosed()
    status = next_status(ticket.status, Action.transfer)
    from_service_id, from_counter_id = ticket.service_id, ticket.counter_id
    _queued(session, ticket, service_id)
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
    shift_waiting(session, service_id=ticket.service_id, visit_date=ticket.visit_date, by=-1)
    events.record(session, ticket, EventType.cancelled, at=now, actor=actor)
    return ticket
