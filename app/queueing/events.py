"""Appending to the ticket event log.

Each event takes the clinic's next `seq` (1, 2, 3, …) from a counter on the clinic row, in the
same transaction, so the sequence is gap-free, survives restarts and is the same for every
server process. `record` advances the ticket's leg and its report rollups at once
(app/queueing/rollups.py) and notes the event; the writer calls `write_recorded` as the
command's last step, which numbers the command's events with one UPDATE of each clinic row
and inserts them. So the clinic row, which every write of the clinic waits for, is locked last
(after counters, tickets and rollup rows: lock order never cycles) and held only across that
UPDATE, the INSERT and the COMMIT.
Each event is also noted for the after-commit pipeline (app/after_commit.py), which hands it to
the feeds and the metrics once the transaction holding it has committed.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, col

from app.after_commit import note_event, pending_events
from app.models import Clinic, EventType, Ticket, TicketEvent
from app.prepared import Prepared, RowInsert
from app.queueing.legs import record_leg


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff user, a device, or neither (a patient's phone, the system)."""

    user_id: int | None = None
    device_id: int | None = None


SYSTEM = Actor()


_TAKE_SEQS = Prepared(
    lambda _dialect: (
        update(Clinic)
        .where(col(Clinic.id) == bindparam("clinic_id"))
        .values(event_seq=col(Clinic.event_seq) + bindparam("count"))
        .returning(col(Clinic.event_seq))
    )
)
_EVENT_INSERT = RowInsert(TicketEvent)

UNNUMBERED = 0  # the seq of an event recorded and not yet written


def take_clinic_seqs(session: Session, clinic_id: int, count: int) -> int:
    """Reserve the clinic's next `count` seqs: the last of them."""
    return int(_TAKE_SEQS.one(session, {"clinic_id": clinic_id, "count": count})[0])


def write_recorded(session: Session) -> None:
    """The writer's last step of a command: number the events it recorded, clinic by clinic
    (in id order, so two commands never lock two clinics in opposite orders), and insert
    them."""
    recorded = [event for event in pending_events(session) if event.seq == UNNUMBERED]
    by_clinic: dict[int, list[TicketEvent]] = {}
    for event in recorded:
        by_clinic.setdefault(event.clinic_id, []).append(event)
    for clinic_id in sorted(by_clinic):
        numbered = by_clinic[clinic_id]
        last = take_clinic_seqs(session, clinic_id, len(numbered))
        for offset, event in enumerate(numbered):
            event.seq = last - len(numbered) + 1 + offset
    for event in recorded:
        _EVENT_INSERT.add(session, event)


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
        seq=UNNUMBERED,
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
    record_leg(session, ticket, event)
    channel = ticket.channel.value if event_type is EventType.issued else None
    note_event(session, event, ticket, channel=channel)
    return event
