"""Taking a ticket: checks, numbering, the first leg, and Idempotency-Key replays."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.secrets import digest, new_secret
from app.clock import Clock
from app.models import Channel, Clinic, EventType, Priority, Ticket, TicketStatus
from app.models.ticket import TicketCreated
from app.queueing import events
from app.queueing.errors import QuotaFull, ServiceClosed, ServiceOfOtherClinic, TransferOnlyService
from app.queueing.idempotency import IdempotencyKey, remember, replay
from app.queueing.localday import local_date
from app.queueing.lookup import get_service
from app.queueing.numbering import next_number, ticket_code
from app.queueing.priority import queue_key
from app.queueing.queries import ticket_view


def _issue(
    session: Session,
    *,
    clinic: Clinic,
    service_id: int,
    priority: Priority,
    channel: Channel,
    actor: events.Actor,
    clock: Clock,
) -> tuple[Ticket, str]:
    service = get_service(session, service_id)
    if service.clinic_id != clinic.id:
        raise ServiceOfOtherClinic()
    if not service.entry:
        raise TransferOnlyService()
    if not service.is_open:
        raise ServiceClosed()
    visit_date = local_date(clock(), clinic.timezone)
    number = next_number(session, service_id=service_id, visit_date=visit_date)
    if service.daily_quota is not None and number > service.daily_quota:
        raise QuotaFull()
    # Read the clock after the number's lock, so numbers and arrival times agree in order.
    now = clock()
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
        queue_key=queue_key(now, priority, service.priority_lead_minutes),
        token_digest=digest(token),
    )
    session.add(ticket)
    session.flush()
    events.record(session, ticket, EventType.issued, at=now, actor=actor, to_service_id=service_id)
    return ticket, token


def take_ticket(
    session: Session,
    *,
    clinic: Clinic,
    service_id: int,
    priority: Priority,
    channel: Channel,
    actor: events.Actor,
    clock: Clock,
    idempotency: IdempotencyKey | None = None,
    idempotency_hours: int = 24,
) -> TicketCreated:
    """Issue a ticket and commit; with an idempotency key, a retry gets the first answer."""
    if idempotency is not None:
        replayed = replay(session, idempotency)
        if replayed is not None:
            return replayed
    ticket, token = _issue(
        session,
        clinic=clinic,
        service_id=service_id,
        priority=priority,
        channel=channel,
        actor=actor,
        clock=clock,
    )
    service = get_service(session, service_id)
    view = ticket_view(session, ticket, clinic, service)
    ticket.estimate_at_issue_min = view.estimated_wait_minutes
    session.add(ticket)
    created = TicketCreated.model_validate({**view.model_dump(), "token": token})
    if idempotency is not None:
        remember(session, idempotency, created, now=clock(), keep_hours=idempotency_hours)
    try:
        session.commit()
    except IntegrityError:
        # The same key raced in from a concurrent retry and committed first: answer as it did.
        session.rollback()
        replayed = replay(session, idempotency) if idempotency else None
        if replayed is None:
            raise
        return replayed
    return created
