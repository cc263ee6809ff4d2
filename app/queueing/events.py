"""Appending to the ticket event log.

Each event takes the clinic's next `seq` (1, 2, 3, …) from a counter on the clinic row, in the
same transaction, so the sequence is gap-free, survives restarts and is the same for every
server process. The clinic row is locked last in every transaction (after counters and
tickets), so it is held only for the instant before commit and lock order never cycles; the
leg and its report rollups (app/queueing/rollups.py) are written under it, which serialises
one clinic's rollup writes.
Each event is also noted for the after-commit pipeline (app/after_commit.py), which hands it to
the feeds and the metrics once the transaction holding it has committed.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, col

from app.after_commit import note_event
from app.models import Clinic, EventType, Ticket, TicketEvent
from app.prepared import Prepared, RowInsert
from app.queueing.legs import record_leg


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff user, a device, or neither (a patient's phone, the system)."""

    user_id: int | None = None
    device_id: int | None = None


SYSTEM = Actor()


_NEXT_SEQ = Prepared(
    lambda _dialect: (
        update(Clinic)
        .where(col(Clinic.id) == bindparam("clinic_id"))
        .values(event_seq=col(Clinic.event_seq) + 1)
        .returning(col(Clinic.event_seq))
    )
)
_EVENT_INSERT = RowInsert(TicketEvent)


def next_clinic_seq(session: Session, clinic_id: int) -> int:
    return int(_NEXT_SEQ.one(session, {"clinic_id": clinic_id})[0])


def record(
    session: Session,
    ticket: Ticket,
    event_type: EventType,
    *,
    at: datetime,
    actor: Actor,
    counter_id: int | None = None,
    from_service_id: int | None = None,
    to_service_id: int | None = None,
) -> TicketEvent:
    assert ticket.id is not None
    event = TicketEvent(
        clinic_id=ticket.clinic_id,
        seq=next_clinic_seq(session, ticket.clinic_id),
        ticket_id=ticket.id,
        type=event_type,
        at=at,
        leg=ticket.leg,
        service_id=ticket.service_id,
        counter_id=counter_id,
        user_id=actor.user_id,
        device_id=actor.device_id,
        from_service_id=from_service_id,
        to_service_id=to_service_id,
    )
    _EVENT_INSERT.add(session, event)
    record_leg(session, ticket, event)
    channel = ticket.channel.value if event_type is EventType.issued else None
    note_event(session, event, ticket, channel=channel)
    return event
