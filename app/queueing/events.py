"""The append-only event log: recording an event, and the writes that end a transaction.

`record` advances the ticket's leg (app/queueing/legs.py), notes the change of the leg's share
for the report rollups, and notes the event for the after-commit pipeline (app/after_commit.py).
Nothing is written to the log yet: the writer calls `end_command` as each command's last step
(the legs it changed) and `end_transaction` once before the COMMIT, which writes, for every
command of the transaction together:

- the legs begun, one INSERT statement (a command that reads a leg begun earlier in the same
  transaction finds it among them, app/queueing/legs.py);
- the rollups: the shares' changes summed per row, one upsert statement (app/queueing/rollups.py);
- the events' `seq`: each clinic's events take the clinic's next numbers (1, 2, 3, …) with one
  UPDATE of its row, so the sequence is gap-free, survives restarts and is the same for every
  server process;
- the events themselves, one INSERT statement for all of them;
- before the seqs, the BPJS outbox rows the events of Mobile JKN tickets call for
  (app/bpjs/outbox/plan.py): nothing, not even a query, for a transaction without one.

So the clinic row, which every write of the clinic waits for on PostgreSQL, is locked last
(after counters, tickets, legs and rollup rows: lock order never cycles, clinics in id order)
and held only across that UPDATE, the INSERT and the COMMIT.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, col

from app.after_commit import Commit, TicketBrief, note_event
from app.bpjs.outbox.plan import write_outbox
from app.models import Clinic, EventRow, EventType, TicketEvent
from app.prepared import Prepared, RowInsert
from app.queueing.legs import insert_legs, record_leg, write_legs
from app.queueing.rollups import write_shifts
from app.queueing.rows import TicketRow


@dataclass(frozen=True, slots=True)
class Actor:
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


def take_clinic_seqs(session: Session, clinic_id: int, count: int) -> int:
    """Reserve the clinic's next `count` seqs: the last of them."""
    return int(_TAKE_SEQS.one(session, {"clinic_id": clinic_id, "count": count})[0])


def record(
    session: Session,
    ticket: TicketRow,
    event_type: EventType,
    *,
    at: datetime,
    actor: Actor,
    counter_id: int | None = None,
    from_service_id: int | None = None,
    to_service_id: int | None = None,
    waiting: dict[int, int] | None = None,
) -> EventRow:
    """Log an event of `ticket` (as it is before the event's own changes to service and leg);
    `waiting`: the waiting counts this event changed, for the displays."""
    event = EventRow(
        clinic_id=ticket.clinic_id,
        ticket_id=ticket.ticket_id,
        type=event_type,
        at=at,
        leg=ticket.leg,
        service_id=ticket.service_id,
        counter_id=counter_id,
        user_id=actor.user_id,
        device_id=actor.device_id,
        from_service_id=from_service_id,
        to_service_id=to_service_id,
        waiting=waiting or {},
    )
    record_leg(session, ticket, event)
    channel = ticket.channel.value if event_type is EventType.issued else None
    brief = TicketBrief(ticket.ticket_id, ticket.code, ticket.priority, ticket.channel)
    note_event(session, event, brief, channel=channel)
    return event


def end_command(session: Session) -> None:
    """A command's last writes, inside its savepoint: its legs."""
    write_legs(session)


def end_transaction(session: Session, commit: Commit) -> None:
    """The transaction's last writes, for all its commands: rollups, then each clinic's seqs
    (clinics in id order, so two transactions never lock two clinics in opposite orders),
    then the events; the BPJS outbox rows the events call for before the seqs."""
    insert_legs(session, commit)
    write_shifts(session, commit.rollup_shifts)
    commit.rollup_shifts = []
    # What BPJS is owed, committed with the events or not at all (before the clinic rows are
    # locked: they are held only across the seqs, the events and the COMMIT).
    write_outbox(session, commit)
    by_clinic: dict[int, list[EventRow]] = {}
    for event in commit.events:
        by_clinic.setdefault(event.clinic_id, []).append(event)
    for clinic_id in sorted(by_clinic):
        numbered = by_clinic[clinic_id]
        first = take_clinic_seqs(session, clinic_id, len(numbered)) - len(numbered) + 1
        for offset, event in enumerate(numbered):
            event.seq = first + offset
    _EVENT_INSERT.add_many(session, commit.events)
