"""Read-side of the queue: positions, estimates, waiting counts and the clinic snapshot."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from app.models import (
    Clinic,
    Counter,
    CounterService,
    DailySequence,
    Service,
    Ticket,
    TicketStatus,
)
from app.models.queue import CounterState, HeldTicket, QueuedTicket, QueueSnapshot, ServiceQueue
from app.models.service import ServicePublic
from app.models.ticket import HELD_STATUSES, TicketPublic
from app.queueing.estimate import RECENT_TICKETS, estimated_wait_minutes, mean_service_minutes
from app.queueing.localday import local_date, to_local
from app.queueing.service_times import SERVICE_TIMES_INFO, ServiceTimes


def queued_behind(session: Session, service_id: int, visit_date: date, key: datetime) -> int:
    """Waiting tickets of the service that a ticket joining now with `key` goes ahead of:
    none for a regular ticket, the priority lead's arrivals for a priority one."""
    statement = select(func.count()).where(
        col(Ticket.service_id) == service_id,
        col(Ticket.visit_date) == visit_date,
        col(Ticket.status) == TicketStatus.waiting,
        col(Ticket.queue_key) > key,
    )
    return session.exec(statement).one()


def position_of(session: Session, ticket: Ticket, *, waiting: int | None = None) -> int | None:
    """How many tickets of its service will be called before this one (0 = next).

    With `waiting`, the service's waiting count that a command just read (app/queueing/
    numbering.py) for a ticket that has just entered the queue: then only the tickets queued
    behind it are counted, a handful (priority arrivals within the lead), never the queue.
    """
    if ticket.status is not TicketStatus.waiting:
        return None
    same_queue = (
        col(Ticket.service_id) == ticket.service_id,
        col(Ticket.visit_date) == ticket.visit_date,
        col(Ticket.status) == TicketStatus.waiting,
    )
    if waiting is not None:
        behind = select(func.count()).where(
            *same_queue,
            or_(
                col(Ticket.queue_key) > ticket.queue_key,
                and_(col(Ticket.queue_key) == ticket.queue_key, col(Ticket.id) > ticket.id),
            ),
        )
        return max(waiting - 1 - session.exec(behind).one(), 0)
    ahead = select(func.count()).where(
        *same_queue,
        or_(
            col(Ticket.queue_key) < ticket.queue_key,
            and_(col(Ticket.queue_key) == ticket.queue_key, col(Ticket.id) < ticket.id),
        ),
    )
    return session.exec(ahead).one()


def _recent_spans(
    session: Session, service_ids: list[int], visit_date: date
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Per service, (began, finished) of its last RECENT_TICKETS tickets completed today."""
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for service_id in service_ids:
        statement = (
            select(Ticket.started_at, Ticket.called_at, Ticket.finished_at)
            .where(
                col(Ticket.service_id) == service_id,
                col(Ticket.visit_date) == visit_date,
                col(Ticket.status) == TicketStatus.done,
            )
            .order_by(col(Ticket.finished_at).desc())
            .limit(RECENT_TICKETS)
        )
        spans[service_id] = []
        for started_at, called_at, finished_at in session.exec(statement):
            began = started_at or called_at
            if began is not None and finished_at is not None:
                spans[service_id].append((began, finished_at))
    return spans


def _counters_per_service(session: Session, service_ids: list[int]) -> dict[int, int]:
    statement = (
        select(CounterService.service_id, func.count())
        .where(col(CounterService.service_id).in_(service_ids))
        .group_by(col(CounterService.service_id))
    )
    return dict(session.exec(statement).all())


def waiting_per_service(
    session: Session, service_ids: list[int], visit_date: date
) -> dict[int, int]:
    statement = (
        select(Ticket.service_id, func.count())
        .where(
            col(Ticket.service_id).in_(service_ids),
            col(Ticket.visit_date) == visit_date,
            col(Ticket.status) == TicketStatus.waiting,
        )
        .group_by(col(Ticket.service_id))
    )
    return dict(session.exec(statement).all())


def kept_waiting(session: Session, service_ids: list[int], visit_date: date) -> dict[int, int]:
    """The waiting counts kept per service and day (app/queueing/numbering.py): one row read
    per service, where `waiting_per_service` counts the queue itself."""
    statement = select(DailySequence.service_id, DailySequence.waiting).where(
        col(DailySequence.service_id).in_(service_ids),
        col(DailySequence.visit_date) == visit_date,
    )
    return dict(session.exec(statement).all())


class WaitModel:
    """Per service: mean recent service time and counters, for estimating a wait."""

    def __init__(
        self,
        session: Session,
        services: list[Service],
        visit_date: date,
        *,
        counters: dict[int, int] | None = None,
    ) -> None:
        ids = [service.id for service in services if service.id is not None]
        self.counters = counters if counters is not None else _counters_per_service(session, ids)
        times: ServiceTimes | None = session.info.get(SERVICE_TIMES_INFO)
        self.means = {}
        for service in services:
            assert service.id is not None

            def read(service: Service = service) -> float:
                spans = _recent_spans(session, [service.id or 0], visit_date)
                return mean_service_minutes(
                    spans.get(service.id or 0, []), service.default_service_minutes
                )

            self.means[service.id] = (
                read() if times is None else times.mean(service.id, visit_date, read)
            )

    def estimate(self, service_id: int, position: int) -> int:
        return estimated_wait_minutes(
            position, self.means[service_id], self.counters.get(service_id, 0)
        )


def ticket_view(
    session: Session,
    ticket: Ticket,
    clinic: Clinic,
    service: Service,
    *,
    waiting: int | None = None,
    counters: int | None = None,
) -> TicketPublic:
    """The ticket as the API shows it, times in the clinic's offset, with position and estimate.
    `waiting` and `counters` as a command knows them spare the queries (see `position_of`)."""
    position = position_of(session, ticket, waiting=waiting)
    estimate = None
    if position is not None:
        model = WaitModel(
            session,
            [service],
            ticket.visit_date,
            counters=None if counters is None else {service.id or 0: counters},
        )
        estimate = model.estimate(service.id or 0, position)
    return public_view(ticket, clinic, position, estimate)


def public_view(
    ticket: Ticket, clinic: Clinic, position: int | None, estimate: int | None
) -> TicketPublic:
    """The ticket as the API shows it, times in the clinic's offset."""
    tz = clinic.timezone
    return TicketPublic.model_validate(
        {
            **ticket.model_dump(exclude={"token_digest"}),
            "issued_at": to_local(ticket.issued_at, tz),
            "called_at": to_local(ticket.called_at, tz),
            "started_at": to_local(ticket.started_at, tz),
            "finished_at": to_local(ticket.finished_at, tz),
            "position": position,
            "estimated_wait_minutes": estimate,
        }
    )


def clinic_services(session: Session, clinic: Clinic, now: datetime) -> list[ServicePublic]:
    """The clinic's services, each with today's waiting count and a new ticket's estimated wait."""
    services = list(
        session.exec(
            select(Service).where(col(Service.clinic_id) == clinic.id).order_by(col(Service.id))
        )
    )
    today = local_date(now, clinic.timezone)
    ids = [service.id for service in services if service.id is not None]
    waiting = waiting_per_service(session, ids, today)
    issued = dict(
        session.exec(
            select(DailySequence.service_id, DailySequence.last_number).where(
                col(DailySequence.service_id).in_(ids), col(DailySequence.visit_date) == today
            )
        ).all()
    )
    model = WaitModel(session, services, today)
    return [
        ServicePublic.model_validate(
            {
                **service.model_dump(),
                "waiting": waiting.get(service.id or 0, 0),
                "issued_today": issued.get(service.id or 0, 0),
                "estimated_wait_minutes": model.estimate(
                    service.id or 0, waiting.get(service.id or 0, 0)
                ),
            }
        )
        for service in services
    ]


def waiting_in_call_order(
    session: Session, service_ids: list[int], visit_date: date
) -> list[Ticket]:
    statement = (
        select(Ticket)
        .where(
            col(Ticket.service_id).in_(service_ids),
            col(Ticket.visit_date) == visit_date,
            col(Ticket.status) == TicketStatus.waiting,
        )
        .order_by(col(Ticket.queue_key), col(Ticket.id))
    )
    return list(session.exec(statement))


def held_tickets(session: Session, counter_ids: list[int], visit_date: date) -> dict[int, Ticket]:
    statement = select(Ticket).where(
        col(Ticket.counter_id).in_(counter_ids),
        col(Ticket.status).in_(HELD_STATUSES),
        col(Ticket.visit_date) == visit_date,
    )
    return {ticket.counter_id: ticket for ticket in session.exec(statement) if ticket.counter_id}


def clinic_counters(session: Session, clinic_id: int) -> list[tuple[Counter, list[int]]]:
    counters = list(
        session.exec(
            select(Counter).where(col(Counter.clinic_id) == clinic_id).order_by(col(Counter.id))
        )
    )
    links = session.exec(
        select(CounterService.counter_id, CounterService.service_id)
        .where(col(CounterService.counter_id).in_([c.id for c in counters]))
        .order_by(col(CounterService.service_id))
    )
    by_counter: dict[int, list[int]] = defaultdict(list)
    for counter_id, service_id in links:
        by_counter[counter_id].append(service_id)
    return [(counter, by_counter.get(counter.id or 0, [])) for counter in counters]


def queue_snapshot(session: Session, clinic: Clinic, now: datetime) -> QueueSnapshot:
    """Per service the waiting codes in call order; per counter the ticket it holds."""
    assert clinic.id is not None
    today = local_date(now, clinic.timezone)
    services = list(
        session.exec(
            select(Service).where(col(Service.clinic_id) == clinic.id).order_by(col(Service.id))
        )
    )
    waiting = waiting_in_call_order(session, [s.id for s in services if s.id is not None], today)
    by_service: dict[int, list[QueuedTicket]] = defaultdict(list)
    for ticket in waiting:
        by_service[ticket.service_id].append(QueuedTicket.model_validate(ticket))
    counters = clinic_counters(session, clinic.id)
    held = held_tickets(session, [c.id for c, _ in counters if c.id is not None], today)
    return QueueSnapshot(
        clinic_id=clinic.id,
        visit_date=today,
        services=[
            ServiceQueue(
                service_id=s.id or 0,
                service_name=s.name,
                prefix=s.prefix,
                is_open=s.is_open,
                waiting=by_service.get(s.id or 0, []),
            )
            for s in services
        ],
        counters=[
            CounterState(
                counter_id=c.id or 0,
                counter_name=c.name,
                service_ids=ids,
                ticket=_held_view(held.get(c.id or 0), clinic.timezone),
            )
            for c, ids in counters
        ],
    )


def _held_view(ticket: Ticket | None, timezone: str) -> HeldTicket | None:
    if ticket is None or ticket.id is None:
        return None
    return HeldTicket(
        id=ticket.id,
        code=ticket.code,
        status=ticket.status,
        service_id=ticket.service_id,
        called_at=to_local(ticket.called_at, timezone),
    )
