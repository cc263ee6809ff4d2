"""Taking a ticket: checks, numbering, the first leg, and Idempotency-Key replays."""

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.secrets import digest, new_secret
from app.clock import Clock
from app.db import open_session
from app.directory.setups import ClinicSetup
from app.models import Channel, EventType, Priority, Ticket, TicketStatus
from app.models.ticket import TicketCreated
from app.prepared import RowInsert
from app.queueing import events
from app.queueing.errors import QuotaFull, ServiceClosed, TransferOnlyService
from app.queueing.idempotency import IdempotencyKey, remember, replay
from app.queueing.localday import local_date
from app.queueing.lookup import service_in
from app.queueing.numbering import take_number, ticket_code
from app.queueing.priority import queue_key
from app.queueing.queries import WaitModel, public_view, queued_behind
from app.writer import Writer

_TICKET_INSERT = RowInsert(Ticket)


class DayRolledOver(Exception):
    """Midnight passed between reading the day and taking the number."""


@dataclass
class _Issued:
    ticket: Ticket
    token: str
    position: int
    estimate: int


def _issue(
    session: Session,
    *,
    setup: ClinicSetup,
    service_id: int,
    priority: Priority,
    channel: Channel,
    clock: Clock,
) -> _Issued:
    clinic = setup.clinic
    service = service_in(session, setup, service_id)
    if not service.entry:
        raise TransferOnlyService()
    if not service.is_open:
        raise ServiceClosed()
    visit_date = local_date(clock(), clinic.timezone)
    # Everything read-only first: on PostgreSQL the number's row lock below is held until
    # commit, and every issuer of this service waits for it.
    wait_model = WaitModel(
        session, [service], visit_date, counters={service_id: setup.counters_serving(service_id)}
    )
    number, waiting = take_number(session, service_id=service_id, visit_date=visit_date)
    if service.daily_quota is not None and number > service.daily_quota:
        raise QuotaFull()
    # Read the clock after the number's lock, so numbers and arrival times agree in order.
    now = clock()
    if local_date(now, clinic.timezone) != visit_date:
        raise DayRolledOver()  # midnight passed while waiting for the lock: start again
    key = queue_key(now, priority, service.priority_lead_minutes)
    # Only a priority ticket can join ahead of someone: a regular one joins behind everyone
    # (every queue key is a moment already past, or earlier still for priority).
    behind = 0 if priority is Priority.none else queued_behind(session, service_id, visit_date, key)
    position = waiting - 1 - behind
    estimate = wait_model.estimate(service_id, position)
    token = new_secret()
    ticket = Ticket(
        clinic_id=service.clinic_id,
        service_id=service_id,
        origin_service_id=service_id,
        visit_date=visit_date,
        number=number,
        code=ticket_code(service.prefix, number),
        status=TicketStatus.waiting,
        priority=priority,
        channel=channel,
        issued_at=now,
        entered_at=now,
        queue_key=key,
        token_digest=digest(token),
        estimate_at_issue_min=estimate,
    )
    _TICKET_INSERT.add(session, ticket)
    return _Issued(ticket=ticket, token=token, position=position, estimate=estimate)


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
    idempotency_hours: int = 24,
) -> TicketCreated:
    """The writer's command: issue a ticket (or replay the first answer to its key); the
    answer is built from what it wrote. Raises `DayRolledOver` when midnight passed while it
    waited for the number's lock: run it again."""
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
    )
    ticket = issued.ticket
    view = public_view(ticket, setup.clinic, issued.position, issued.estimate)
    created = TicketCreated.model_validate({**view.model_dump(), "token": issued.token})
    if idempotency is not None:
        remember(session, idempotency, created, now=clock(), keep_hours=idempotency_hours)
        session.flush()
    events.record(
        session,
        ticket,
        EventType.issued,
        at=ticket.issued_at,
        actor=actor,
        to_service_id=service_id,
    )
    return created


async def take_ticket(writer: Writer, **request: Any) -> TicketCreated:
    """Issue a ticket through the writer, awaiting its commit on the event loop; with an
    idempotency key, a retry gets the first answer, also when it raced the first request
    from another process."""

    def command(session: Session) -> TicketCreated:
        return issue_ticket(session, **request)

    try:
        try:
            return await writer.arun(command)
        except DayRolledOver:
            return await writer.arun(command)
    except IntegrityError:
        # The same key raced in from a concurrent retry and committed first: answer as it did.
        idempotency: IdempotencyKey | None = request.get("idempotency")
        if idempotency is None:
            raise
        replayed = await asyncio.to_thread(_replay, writer, idempotency)
        if replayed is None:
            raise
        return replayed


def _replay(writer: Writer, idempotency: IdempotencyKey) -> TicketCreated | None:
    with open_session(writer.engine, write=False) as session:
        return replay(session, idempotency)
