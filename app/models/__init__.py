"""Tables and their API models; importing this package registers every table."""

from app.models.base import metadata
from app.models.bookkeeping import DailySequence, IdempotencyRecord, ServerSecret
from app.models.bpjs import BpjsBooking, BpjsNewPatient, BpjsSettings
from app.models.bpjs_outbox import BpjsOutbox, OutboxKind, OutboxState
from app.models.clinic import Clinic
from app.models.counter import Counter, CounterService
from app.models.device import Device, DeviceKind
from app.models.event import EventRow, EventType, TicketEvent
from app.models.leg import LegOutcome, TicketLeg
from app.models.rollup import LegRollup
from app.models.service import Service
from app.models.ticket import Channel, Priority, Ticket, TicketStatus
from app.models.user import Role, User

__all__ = [
    "BpjsBooking",
    "BpjsNewPatient",
    "BpjsOutbox",
    "BpjsSettings",
    "Channel",
    "Clinic",
    "Counter",
    "CounterService",
    "DailySequence",
    "Device",
    "DeviceKind",
    "EventRow",
    "EventType",
    "IdempotencyRecord",
    "LegOutcome",
    "LegRollup",
    "OutboxKind",
    "OutboxState",
    "Priority",
    "Role",
    "ServerSecret",
    "Service",
    "Ticket",
    "TicketEvent",
    "TicketLeg",
    "TicketStatus",
    "User",
    "metadata",
]
