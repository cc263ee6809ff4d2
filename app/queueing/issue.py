"""Taking a ticket: checks, numbering, the first leg, and Idempotency-Key replays.

The writer's command takes three statements of its own: the number (which also returns the
service's waiting count and the estimator's pace, so position and estimate cost no read), the
ticket, and its first leg; with an Idempotency-Key, one more to look for an earlier answer and
one to keep this one. Its event, rollups and `seq` are written with the batch
(app/queueing/events.py). The answer is built from what the command wrote, as plain values.
"""

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.secrets import digest, new_secret
from app.clock import Clock
from app.db import open_session
from app.directory.setups import ClinicSetup
from app.models import Channel, Priority, Service
from app.queueing import events
from app.queueing.errors import QuotaFull, ServiceClosed, TransferOnlyService
from app.queueing.estimate_now import estimate_now, shared_counters
from app.queueing.idempotency import IdempotencyKey, remember, replay
from app.queueing.localday import local_date
from app.queueing.lookup import service_in
from app.queueing.numbering import Join, take_number, ticket_code
from app.queueing.priority import queue_key
from app.queueing.queries import queued_behind, ticket_answer
from app.queueing.rows import TICKET_INSERT, TicketRow
from app.queueing.states import Action, step
from app.writer import Writer

# A ticket as answered to whoever took it: `TicketCreated`'s fields, as plain values.
Answer = dict[str, Any]

# A new ticket: the state it starts in and the event that logs it.
ISSUED = step(None, Action.issue)


class DayRolledOver(Exception):
    """Midnight passed between reading the day and taking the number."""


@dataclass
class _Issued:
    ticket: TicketRow
    token: str
    waiting: int  # in the service, this ticket included
    position: int
    estimate: int


def _open_entry_service(session: Session, setup: ClinicSetup, service_id: int) -> Service:
    service = service_in(session, setup, service_id)
    if not service.entry:
        raise TransferOnlyService()
    if not service.is_open:
        raise ServiceClosed()
    return service


def _issue(
    session: Session,
    *,
    setup: ClinicSetup,
    service_id: int,
    priority: Priority,
    channel: Channel,
    clock: Clock,
    booked_for: date | None = None,
) -> _Issued:
    clinic = setup.clinic
    service = _open_entry_service(session, setup, service_id)
    arrived = clock()
    today = local_date(arrived, clinic.timezone)
    # A booking (BPJS's Mobile JKN) may be for a later day: its number is that day's.
    visit_date = today if booked_for is None else max(booked_for, today)
    # Today's joins move the estimator's pace; a booking for a later day joins no queue yet.
    join = Join(arrived.timestamp(), priority is not Priority.none)
    # On PostgreSQL the number's row lock is held until commit: every issuer of this service
    # waits for it, so nothing but the ticket's own writes follows it.
    day = take_number(
        session,
        service_id=service_id,
        visit_date=visit_date,
        join=join if visit_date == today else None,
    )
    if service.daily_quota is not None and day.last_number > service.daily_quota:
        raise QuotaFull()
    # Read the clock after the number's lock, so numbers and arrival times agree in order.
    now = clock()
    if local_date(now, clinic.timezone) != today:
        raise DayRolledOver()  # midnight passed while waiting for the lock: start again
    key = queue_key(now, priority, service.priority_lead_minutes)
    # Only a priority ticket can join ahead of someone: a regular one joins behind everyone
    # (every queue key is a moment already past, or earlier still for priority).
    behind = 0 if priority is Priority.none else queued_behind(session, service_id, visit_date, key)
    position = day.waiting - 1 - behind
    estimate = estimate_now(
        session,
        clinic=clinic,
        service=service,
        day=day,
        counters=shared_counters(setup, service_id),
        position=position,
        now=now,
        priority=join.priority,
    )
    token = new_secret()
    ticket = TicketRow(
        clinic_id=setup.clinic_id,
        service_id=service_id,
        origin_service_id=service_id,
        visit_date=visit_date,
        number=day.last_number,
        code=ticket_code(service.prefix, day.last_number),
        status=ISSUED.status,
        priority=priority,
        channel=channel,
        issued_at=now,
        entered_at=now,
        queue_key=key,
        token_digest=digest(token),
        estimate_at_issue_min=estimate,
    )
    TICKET_INSERT.add(session, ticket)
    return _Issued(ticket, token, day.waiting, position, estimate)


def issue_ticket(
    session: Session,
    *,
    setup: ClinicSetup,
    service_id: int,
    priority: Priority,
    channel: Channel,
    actor: events.Actor,
    clock: Clock,
    idempotency: IdempotencyKey | None = None,
    booked_for: date | None = None,
) -> Answer:
    """The writer's command: issue a ticket (or replay the first answer to its key); the
    answer, token included, is built from what it wrote. Raises `DayRolledOver` when midnight
    passed while it waited for the number's lock: run it again."""
    if idempotency is not None:
        replayed = replay(session, idempotency)
        if replayed is not None:
            return replayed
    issued = _issue(
        session,
        setup=setup,
        service_id=service_id,
        priority=priority,
        channel=channel,
        clock=clock,
        booked_for=booked_for,
    )
    ticket = issued.ticket
    answer = ticket_answer(ticket, setup.clinic.timezone, issued.position, issued.estimate)
    if idempotency is not None:
        remember(session, idempotency, answer, issued.token, now=ticket.issued_at)
    events.record(
        session,
        ticket,
        ISSUED.event,
        at=ticket.issued_at,
        actor=actor,
        to_service_id=service_id,
        waiting={service_id: issued.waiting},
    )
    answer["token"] = issued.token
    return answer


async def take_ticket(writer: Writer, **request: Any) -> Answer:
    """Issue a ticket through the writer, awaiting its commit on the event loop; with an
    idempotency key, a retry gets the first answer, also when it raced the first request
    from another process."""

    def command(session: Session) -> Answer:
        return issue_ticket(session, **request)

    key = request["setup"].clinic_id
    try:
        try:
            return await writer.arun(command, key=key)
        except DayRolledOver:
            return await writer.arun(command, key=key)
    except IntegrityError:
        # The same key raced in from a concurrent retry and committed first: answer as it did.
        idempotency: IdempotencyKey | None = request.get("idempotency")
        if idempotency is None:
            raise
        replayed = await asyncio.to_thread(_replay, writer, idempotency)
        if replayed is None:
            raise
        return replayed


def _replay(writer: Writer, idempotency: IdempotencyKey) -> Answer | None:
    with open_session(writer.engine, write=False) as session:
        return replay(session, idempotency)
