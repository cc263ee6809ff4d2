"""What staff and patients do to tickets: call-next, recall, start, complete, no-show, requeue,
transfer, cancel. Each locks what it changes, follows the state machine and logs an event; a
refusal raises before anything is written. None commits: they run as commands of the writer
(app/writer.py), which commits.

Tickets are read with their current leg in one statement and written back with one UPDATE
(app/queueing/rows.py); a waiting count changes with the service's day row
(app/queueing/numbering.py), which also takes the service time of a leg served; the events,
legs and rollups are written as the command and its transaction end (app/queueing/events.py).
Call-next is five statements on SQLite (the held ticket, the next one, the day row, the two
tickets' UPDATE, the two legs' UPDATE), one more on PostgreSQL (the counter's lock).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from app.directory.setups import ClinicSetup
from app.models import Counter, Priority, Ticket
from app.models.ticket import OPEN_STATUSES
from app.prepared import Prepared, driver_connection
from app.queueing import events
from app.queueing.errors import (
    CounterNotFound,
    IllegalTransition,
    SameService,
    ServiceClosed,
    TicketNotFound,
)
from app.queueing.estimate_now import estimate_now, shared_counters
from app.queueing.expiry import expire_if_day_ended
from app.queueing.localday import local_date
from app.queueing.lookup import clinic_setup, counter_setup, service_in
from app.queueing.numbering import Join, ServiceDay, shift_waiting
from app.queueing.priority import queue_key
from app.queueing.queries import queued_behind
from app.queueing.rows import (
    TicketRow,
    first_free_waiting,
    held_by_counter,
    queue_heads,
    save_tickets,
    ticket_by_id,
)
from app.queueing.states import Action, step


@dataclass
class Acted:
    """A ticket after an action, with what its answer needs: where it stands in its queue
    (waiting tickets) and the estimate of its wait."""

    ticket: TicketRow
    setup: ClinicSetup
    position: int | None = None
    estimate: int | None = None


def _one_writer(session: Session) -> bool:
    """SQLite: write transactions run one at a time, so row locks are moot."""
    return driver_connection(session)[1].name == "sqlite"


# Who may act on a ticket, asked once it is read: the actor to log, or 401/403 (raised before
# anything is written). The routes make it from the caller (app/routers/tickets.py).
Authorize = Callable[[TicketRow], events.Actor]


def _lock_current(
    session: Session, ticket_id: int, action: Action, now: datetime, authorize: Authorize
) -> tuple[TicketRow, events.Actor]:
    """Lock the ticket for an allowed action by an authorized caller; refuse (404, 401/403,
    409) without locking when it is not.

    Refusing before the lock matters on PostgreSQL: call-next passes over locked rows
    (SKIP LOCKED), so a refused action must not hold a waiting ticket even for an instant.
    """
    ticket = ticket_by_id(session, ticket_id, lock=False)
    if ticket is None:
        raise TicketNotFound()
    actor = authorize(ticket)
    _ensure_allowed(session, ticket, action, now)
    if _one_writer(session):
        return ticket, actor  # read inside the write transaction: nobody else can change it
    ticket = ticket_by_id(session, ticket_id, lock=True)
    if ticket is None:
        raise TicketNotFound()
    _ensure_allowed(session, ticket, action, now)  # it may have changed while we waited
    return ticket, actor


def _ensure_allowed(session: Session, ticket: TicketRow, action: Action, now: datetime) -> None:
    clinic = clinic_setup(session, ticket.clinic_id).clinic
    if ticket.visit_date < local_date(now, clinic.timezone) and ticket.status in OPEN_STATUSES:
        raise IllegalTransition(action.value.replace("_", "-"), "expired")
    step(ticket.status, action)


def _served_seconds(ticket: TicketRow) -> float | None:
    """The service time of the ticket's current leg, when it has just been served."""
    leg = ticket.current_leg
    return None if leg is None or leg.leg != ticket.leg else leg.service_seconds


def _joined(
    session: Session, ticket: TicketRow, setup: ClinicSetup, day: ServiceDay, now: datetime
) -> tuple[int, int]:
    """Position and estimate of a ticket that has just joined its service's queue (counted in
    `day.waiting`): only priority arrivals within the lead can be behind it."""
    behind = 0
    if ticket.priority is not Priority.none:
        behind = queued_behind(session, ticket.service_id, ticket.visit_date, ticket.queue_key)
    position = max(day.waiting - 1 - behind, 0)
    estimate = estimate_now(
        session,
        clinic=setup.clinic,
        service=service_in(session, setup, ticket.service_id),
        day=day,
        counters=shared_counters(setup, ticket.service_id),
        position=position,
        now=now,
        priority=ticket.priority is not Priority.none,
    )
    return position, estimate


def _join(ticket: TicketRow, now: datetime) -> Join:
    return Join(now.timestamp(), ticket.priority is not Priority.none)


_LOCK_COUNTER = Prepared(
    lambda _d: (
        select(col(Counter.id))
        .where(col(Counter.id) == bindparam("id"))
        # FOR NO KEY UPDATE: rows that reference the counter (events, tickets) take KEY SHARE on
        # it, which a plain FOR UPDATE would block, deadlocking with a ticket action.
        .with_for_update(key_share=True)
    )
)
_WAIT_FOR_TICKET = Prepared(
    lambda _d: (
        select(col(Ticket.id))
        .where(col(Ticket.id) == bindparam("id"))
        .with_for_update(key_share=True)
    )
)


def _wait_for(session: Session, ticket_id: int) -> None:
    """Wait until another transaction lets go of a ticket, holding no lock on it after: the
    lock is taken in a savepoint rolled back at once."""
    driver, _ = driver_connection(session)
    cursor = driver.cursor()
    try:
        cursor.execute("SAVEPOINT wait_for_ticket")
        _WAIT_FOR_TICKET.run(session, {"id": ticket_id})
        cursor.execute("ROLLBACK TO SAVEPOINT wait_for_ticket")
        cursor.execute("RELEASE SAVEPOINT wait_for_ticket")
    finally:
        cursor.close()


def _next_waiting(session: Session, service_ids: tuple[int, ...], today: date) -> TicketRow | None:
    """The next ticket for a counter calling from these services, locked; None when nobody
    waits.

    One service: its first waiting ticket that no other transaction holds (SKIP LOCKED passes
    over a ticket that another counter is calling at that instant). Several: the service whose
    first waiting ticket comes first in call order, then that service's first free ticket (an
    ordered index probe per service, never a sort of the queues). On PostgreSQL, when every
    waiting ticket is held for an instant, wait for one holder (holding no lock meanwhile: a
    locking query that waits over several rows keeps its locks on the rows it passed, and
    three counters calling at once deadlocked that way) and look again.
    """
    one_writer = _one_writer(session)
    while True:
        if len(service_ids) == 1:
            found = first_free_waiting(session, service_ids[0], today)
            if found is not None or one_writer:
                return found
            heads = queue_heads(session, service_ids, today)
        else:
            heads = queue_heads(session, service_ids, today)
            if one_writer:
                return ticket_by_id(session, heads[0][0], lock=False) if heads else None
            for _, _, service_id in heads:
                found = first_free_waiting(session, service_id, today)
                if found is not None:
                    return found
        if not heads:
            return None
        _wait_for(session, heads[0][0])


def call_next(
    session: Session, *, counter_id: int, actor: events.Actor, now: datetime
) -> Acted | None:
    """Call the next waiting ticket to the counter, completing the one it holds first.

    Returns None, changing nothing, when nobody waits. Concurrent callers never get the same
    ticket: SQLite runs write transactions one at a time; on PostgreSQL the counter row is
    locked (one call at a time per counter) and the candidate is taken with FOR UPDATE SKIP
    LOCKED, so a second counter takes the next ticket instead of waiting. The first call of a
    local day in the clinic expires what earlier days left open (a ticket held at midnight
    among them) before it looks.
    """
    setup = counter_setup(session, counter_id)
    if not _one_writer(session) and not _LOCK_COUNTER.run(session, {"id": counter_id}):
        raise CounterNotFound()
    # The held ticket first: waiting for it (a stray lock from another counter's search, see
    # _next_waiting) while holding the next ticket, which that counter may be waiting for,
    # would be a deadlock.
    today = local_date(now, setup.clinic.timezone)
    expire_if_day_ended(session, clinic_id=setup.clinic_id, today=today, now=now)
    held = held_by_counter(session, counter_id)
    candidate = _next_waiting(session, setup.counter_services.get(counter_id, ()), today)
    if candidate is None:
        return None
    sample = None
    if held is not None:
        _finish(session, held, Action.complete, now=now, actor=actor)
        sample = _served_seconds(held)
        if (held.service_id, held.visit_date) != (candidate.service_id, candidate.visit_date):
            _note_service_time(session, held, sample)
            sample = None
    day = shift_waiting(
        session,
        service_id=candidate.service_id,
        visit_date=candidate.visit_date,
        by=-1,
        service_seconds=sample,
        call_at=now.timestamp(),  # the service's pace (app/queueing/estimate.py)
    )
    called = step(candidate.status, Action.call)
    candidate.status = called.status
    candidate.counter_id = counter_id
    candidate.called_at = candidate.called_at or now
    save_tickets(session, *([held] if held else []), candidate)
    events.record(
        session,
        candidate,
        called.event,
        at=now,
        actor=actor,
        counter_id=counter_id,
        waiting={candidate.service_id: day.waiting},
    )
    return Acted(candidate, setup)


def _finish(
    session: Session,
    ticket: TicketRow,
    action: Action,
    *,
    now: datetime,
    actor: events.Actor,
) -> None:
    """Complete (or expire) a held ticket; the caller saves it."""
    held_at = ticket.counter_id
    finished = step(ticket.status, action)
    ticket.status = finished.status
    ticket.finished_at = now
    events.record(session, ticket, finished.event, at=now, actor=actor, counter_id=held_at)


def _note_service_time(session: Session, ticket: TicketRow, seconds: float | None) -> None:
    """A leg was served: its time moves the service's mean (app/queueing/numbering.py)."""
    if seconds is not None:
        shift_waiting(
            session,
            service_id=ticket.service_id,
            visit_date=ticket.visit_date,
            by=0,
            service_seconds=seconds,
        )


def recall(session: Session, *, ticket_id: int, authorize: Authorize, now: datetime) -> Acted:
    ticket, actor = _lock_current(session, ticket_id, Action.recall, now, authorize)
    recalled = step(ticket.status, Action.recall)
    ticket.status = recalled.status
    ticket.recall_count += 1
    save_tickets(session, ticket)
    events.record(
        session, ticket, recalled.event, at=now, actor=actor, counter_id=ticket.counter_id
    )
    return Acted(ticket, clinic_setup(session, ticket.clinic_id))


def start(session: Session, *, ticket_id: int, authorize: Authorize, now: datetime) -> Acted:
    ticket, actor = _lock_current(session, ticket_id, Action.start, now, authorize)
    started = step(ticket.status, Action.start)
    ticket.status = started.status
    ticket.started_at = now
    save_tickets(session, ticket)
    events.record(session, ticket, started.event, at=now, actor=actor, counter_id=ticket.counter_id)
    return Acted(ticket, clinic_setup(session, ticket.clinic_id))


def complete(session: Session, *, ticket_id: int, authorize: Authorize, now: datetime) -> Acted:
    ticket, actor = _lock_current(session, ticket_id, Action.complete, now, authorize)
    _finish(session, ticket, Action.complete, now=now, actor=actor)
    save_tickets(session, ticket)
    _note_service_time(session, ticket, _served_seconds(ticket))
    return Acted(ticket, clinic_setup(session, ticket.clinic_id))


def no_show(session: Session, *, ticket_id: int, authorize: Authorize, now: datetime) -> Acted:
    ticket, actor = _lock_current(session, ticket_id, Action.no_show, now, authorize)
    missed = step(ticket.status, Action.no_show)
    ticket.status = missed.status
    save_tickets(session, ticket)
    events.record(session, ticket, missed.event, at=now, actor=actor, counter_id=ticket.counter_id)
    return Acted(ticket, clinic_setup(session, ticket.clinic_id))


def requeue(session: Session, *, ticket_id: int, authorize: Authorize, now: datetime) -> Acted:
    """A patient marked no-show turned up: back into the same queue, as of now (same leg)."""
    ticket, actor = _lock_current(session, ticket_id, Action.requeue, now, authorize)
    setup = clinic_setup(session, ticket.clinic_id)
    requeued = step(ticket.status, Action.requeue)
    ticket.status = requeued.status
    service = service_in(session, setup, ticket.service_id)
    ticket.counter_id = None
    ticket.queue_key = queue_key(now, ticket.priority, service.priority_lead_minutes)
    day = shift_waiting(
        session,
        service_id=ticket.service_id,
        visit_date=ticket.visit_date,
        by=1,
        join=_join(ticket, now),
    )
    save_tickets(session, ticket)
    events.record(
        session,
        ticket,
        requeued.event,
        at=now,
        actor=actor,
        waiting={ticket.service_id: day.waiting},
    )
    position, estimate = _joined(session, ticket, setup, day, now)
    return Acted(ticket, setup, position, estimate)


def transfer(
    session: Session, *, ticket_id: int, service_id: int, authorize: Authorize, now: datetime
) -> Acted:
    """End this leg and queue the same ticket (same code) at another service of the clinic."""
    ticket, actor = _lock_current(session, ticket_id, Action.transfer, now, authorize)
    setup = clinic_setup(session, ticket.clinic_id)
    target = service_in(session, setup, service_id)
    if target.id == ticket.service_id:
        raise SameService()
    if not target.is_open:
        raise ServiceClosed()
    moved = step(ticket.status, Action.transfer)
    day = shift_waiting(
        session,
        service_id=service_id,
        visit_date=ticket.visit_date,
        by=1,
        join=_join(ticket, now),
    )
    leaving = ticket.current_leg
    events.record(
        session,
        ticket,
        moved.event,
        at=now,
        actor=actor,
        counter_id=ticket.counter_id,
        from_service_id=ticket.service_id,
        to_service_id=service_id,
        waiting={service_id: day.waiting},
    )
    # The leg that ended was served there: its time moves that service's mean.
    _note_service_time(session, ticket, leaving.service_seconds if leaving else None)
    ticket.status = moved.status
    ticket.service_id = service_id
    ticket.leg += 1
    ticket.recall_count = 0  # counted per leg
    ticket.counter_id = None
    ticket.entered_at = now
    ticket.queue_key = queue_key(now, ticket.priority, target.priority_lead_minutes)
    ticket.called_at = ticket.started_at = None
    save_tickets(session, ticket)
    position, estimate = _joined(session, ticket, setup, day, now)
    return Acted(ticket, setup, position, estimate)


def cancel(session: Session, *, ticket_id: int, authorize: Authorize, now: datetime) -> Acted:
    ticket, actor = _lock_current(session, ticket_id, Action.cancel, now, authorize)
    cancelled = step(ticket.status, Action.cancel)
    ticket.status = cancelled.status
    ticket.finished_at = now
    day = shift_waiting(session, service_id=ticket.service_id, visit_date=ticket.visit_date, by=-1)
    save_tickets(session, ticket)
    events.record(
        session,
        ticket,
        cancelled.event,
        at=now,
        actor=actor,
        waiting={ticket.service_id: day.waiting},
    )
    return Acted(ticket, clinic_setup(session, ticket.clinic_id))
