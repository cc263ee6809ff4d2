"""Read-side of the queue: positions, estimates, waiting counts and the clinic snapshot."""

from collections import defaultdict
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import (
    Clinic,
    Counter,
    CounterService,
    DailySequence,
    Priority,
    Service,
    Ticket,
    TicketStatus,
)
from app.models.base import UTCDateTime, utcnow
from app.models.queue import CounterState, HeldTicket, QueuedTicket, QueueSnapshot, ServiceQueue
from app.models.service import ServicePublic
from app.models.ticket import HELD_STATUSES, TicketPublic
from app.prepared import Prepared
from app.queueing.estimate_now import estimate_now
from app.queueing.localday import local_date, to_local
from app.queueing.numbering import ServiceDay
from app.queueing.rows import TicketRow


def _build_behind(_dialect: str) -> Any:
    return select(func.count()).where(
        col(Ticket.service_id) == bindparam("service_id"),
        col(Ticket.visit_date) == bindparam("visit_date"),
        col(Ticket.status) == TicketStatus.waiting,
        col(Ticket.queue_key) > bindparam("key", type_=UTCDateTime()),
    )


_BEHIND = Prepared(_build_behind)


def queued_behind(session: Session, service_id: int, visit_date: date, key: datetime) -> int:
    """Waiting tickets of the service that a ticket joining now with `key` goes ahead of:
    none for a regular ticket, the priority lead's arrivals for a priority one (an index
    range of those arrivals, never the whole queue)."""
    values = {"service_id": service_id, "visit_date": visit_date, "key": key}
    return int(_BEHIND.one(session, values)[0])


def position_of(
    session: Session, ticket: Ticket | TicketRow, *, waiting: int | None = None
) -> int | None:
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


def _shared_counters(session: Session, service_ids: list[int]) -> dict[int, float]:
    """Per service, its counters, one that also calls from other services counting as its
    share (app/queueing/estimate_now.shared_counters), in one query."""
    linked = select(CounterService.counter_id).where(
        col(CounterService.service_id).in_(service_ids)
    )
    links = session.exec(
        select(CounterService.counter_id, CounterService.service_id).where(
            col(CounterService.counter_id).in_(linked)
        )
    ).all()
    served: dict[int, int] = defaultdict(int)
    for counter_id, _ in links:
        served[counter_id] += 1
    shares: dict[int, float] = defaultdict(float)
    for counter_id, service_id in links:
        shares[service_id] += 1 / served[counter_id]
    return dict(shares)


def kept_waiting(session: Session, service_ids: list[int], visit_date: date) -> dict[int, int]:
    """The waiting counts kept per service and day (app/queueing/numbering.py): one row read
    per service, never a count of the queue."""
    return {sid: day.waiting for sid, day in service_days(session, service_ids, visit_date).items()}


def service_days(
    session: Session, service_ids: list[int], visit_date: date
) -> dict[int, ServiceDay]:
    """Each service's kept day (number, waiting count, mean service time, the estimator's
    pace); services without a ticket that day have none."""
    table: Any = DailySequence.__table__  # type: ignore[attr-defined]
    kept = [field.name for field in fields(ServiceDay)]
    statement = sa_select(table.c.service_id, *(table.c[name] for name in kept)).where(
        table.c.service_id.in_(service_ids), table.c.visit_date == visit_date
    )
    return {row[0]: ServiceDay(*row[1:]) for row in session.execute(statement)}


class WaitModel:
    """Per service: its day row and counters, for estimating a wait as of `now`."""

    def __init__(
        self,
        session: Session,
        clinic: Clinic,
        services: list[Service],
        visit_date: date,
        now: datetime,
        *,
        counters: dict[int, float] | None = None,
        days: dict[int, ServiceDay] | None = None,
    ) -> None:
        ids = [service.id for service in services if service.id is not None]
        self.session, self.clinic, self.now = session, clinic, now
        self.services = {service.id or 0: service for service in services}
        self.counters = counters if counters is not None else _shared_counters(session, ids)
        self.days = days if days is not None else service_days(session, ids, visit_date)

    def estimate(self, service_id: int, position: int, *, priority: bool = False) -> int:
        return estimate_now(
            self.session,
            clinic=self.clinic,
            service=self.services[service_id],
            day=self.days.get(service_id),
            counters=self.counters.get(service_id, 0),
            position=position,
            now=self.now,
            priority=priority,
        )


def ticket_view(
    session: Session,
    ticket: Ticket | TicketRow,
    clinic: Clinic,
    service: Service,
    *,
    waiting: int | None = None,
    counters: float | None = None,
    day: ServiceDay | None = None,
    now: datetime | None = None,
) -> TicketPublic:
    """The ticket as the API shows it, times in the clinic's offset, with position and estimate
    as of `now` (the wall clock by default). `waiting`, `counters` and `day` as a command knows
    them spare the queries (see `position_of`)."""
    position = position_of(session, ticket, waiting=waiting)
    estimate = None
    if position is not None:
        model = WaitModel(
            session,
            clinic,
            [service],
            ticket.visit_date,
            now or utcnow(),
            counters=None if counters is None else {service.id or 0: counters},
            days=None if day is None else {service.id or 0: day},
        )
        priority = ticket.priority is not Priority.none
        estimate = model.estimate(service.id or 0, position, priority=priority)
    return public_view(ticket, clinic, position, estimate)


def ticket_answer(
    ticket: Ticket | TicketRow, timezone: str, position: int | None, estimate: int | None
) -> dict[str, Any]:
    """The ticket as the API shows it (`TicketPublic`'s fields), times in the clinic's offset,
    as plain values for a JSON answer."""
    return {
        "id": ticket.id,
        "clinic_id": ticket.clinic_id,
        "service_id": ticket.service_id,
        "counter_id": ticket.counter_id,
        "number": ticket.number,
        "code": ticket.code,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "visit_date": ticket.visit_date,
        "leg": ticket.leg,
        "recall_count": ticket.recall_count,
        "issued_at": to_local(ticket.issued_at, timezone),
        "called_at": to_local(ticket.called_at, timezone),
        "started_at": to_local(ticket.started_at, timezone),
        "finished_at": to_local(ticket.finished_at, timezone),
        "position": position,
        "estimated_wait_minutes": estimate,
        "estimate_at_issue_minutes": ticket.estimate_at_issue_min,
    }


def public_view(
    ticket: Ticket | TicketRow, clinic: Clinic, position: int | None, estimate: int | None
) -> TicketPublic:
    """The ticket as the API shows it, times in the clinic's offset."""
    return TicketPublic.model_validate(ticket_answer(ticket, clinic.timezone, position, estimate))


def clinic_services(session: Session, clinic: Clinic, now: datetime) -> list[ServicePublic]:
    """The clinic's services, each with today's waiting count and a new ticket's estimated wait."""
    services = list(
        session.exec(
            select(Service).where(col(Service.clinic_id) == clinic.id).order_by(col(Service.id))
        )
    )
    today = local_date(now, clinic.timezone)
    ids = [service.id for service in services if service.id is not None]
    days = service_days(session, ids, today)
    model = WaitModel(session, clinic, services, today, now, days=days)
    answers = []
    for service in services:
        day = days.get(service.id or 0)
        waiting = day.waiting if day else 0
        answers.append(
            ServicePublic.model_validate(
                {
                    **service.model_dump(),
                    "waiting": waiting,
                    "issued_today": day.last_number if day else 0,
                    "estimated_wait_minutes": model.estimate(service.id or 0, waiting),
                }
            )
        )
    return answers


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
