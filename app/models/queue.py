"""The clinic queue snapshot (no personal data: codes, counters, services)."""

from datetime import date, datetime

from sqlmodel import SQLModel

from app.models.ticket import Priority, TicketStatus


class QueuedTicket(SQLModel):
    id: int
    code: str
    priority: Priority


class ServiceQueue(SQLModel):
    service_id: int
    service_name: str
    prefix: str
    is_open: bool
    waiting: list[QueuedTicket]


class HeldTicket(SQLModel):
    id: int
    code: str
    status: TicketStatus
    service_id: int
    called_at: datetime | None


class CounterState(SQLModel):
    counter_id: int
    counter_name: str
    service_ids: list[int]
    ticket: HeldTicket | None


class QueueSnapshot(SQLModel):
    clinic_id: int
    visit_date: date
    services: list[ServiceQueue]
    counters: list[CounterState]
