"""Taking a ticket: checks, numbering, the first leg, and Idempotency-Key replays."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.auth.secrets import digest, new_secret
from app.clock import Clock
from app.errors import Conflict
from app.models import Channel, Clinic, EventType, IdempotencyRecord, Priority, Ticket, TicketStatus
from app.models.ticket import TicketCreated
from app.queueing import events
from app.queueing.errors import QuotaFull, ServiceClosed, ServiceOfOtherClinic, TransferOnlyService
from app.queueing.localday import local_date
from app.queueing.lookup import get_service
from app.queueing.numbering import next_number, ticket_code
from app.queueing.priority import queue_key
from app.queueing.queries import ticket_view


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's retry key, scoped to who sent it, with a digest of what they asked for."""

    scope: str
    key: str
    request_digest: str

    @classmethod
    def for_request(
        cls, *, scope: str, key: str, service_id: int, priority: Priority
    ) -> "IdempotencyKey":
        body = f"{service_id}|{priority.value}".encode()
        return cls(scope=scope, key=key, request_digest=hashlib.sha256(body).hexdigest())


class IdempotencyKeyReused(Conflict):
    detail = "This Idempotency-Key was already used for a different request"


def _replay(session: Session, idem: IdempotencyKey) -> TicketCreated | None:
    record = session.exec(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.scope) == idem.scope, col(IdempotencyRecord.key) == idem.key
        )
    ).first()
    if record is None:
        return None
    if record.request_digest != idem.request_digest:
        raise IdempotencyKeyReused()
    return TicketCreated.model_validate_json(record.response)


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
        replayed = _replay(session, idempotency)
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
        assert ticket.id is not None
        _remember(session, idempotency, ticket.id, created, clock(), idempotency_hours)
    try:
        session.commit()
    except IntegrityError:
        # The same key raced in from a concurrent retry and committed first: answer as it did.
        session.rollback()
        replayed = _replay(session, idempotency) if idempotency else None
        if replayed is None:
            raise
        return replayed
    return created


def _remember(
    session: Session,
    idem: IdempotencyKey,
    ticket_id: int,
    created: TicketCreated,
    now: datetime,
    hours: int,
) -> None:
    session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.created_at) < now - timedelta(hours=hours)
        )
    )
    session.add(
        IdempotencyRecord(
            scope=idem.scope,
            key=idem.key,
            request_digest=idem.request_digest,
            ticket_id=ticket_id,
            response=created.model_dump_json(),
            created_at=now,
        )
    )
