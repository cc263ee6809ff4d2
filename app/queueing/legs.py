"""Ticket legs kept in step with the event log: each event advances its leg, in its own
transaction. The definitions (one, everywhere, as docs/reports.md gives them):

- a leg begins when the ticket enters a service's queue (issued, or transferred in) and ends
  with its outcome: done, transferred, no_show, cancelled or expired; a requeue after a
  no-show continues the same leg, and a no-show left until the day closes stays a no-show;
- wait = from the leg's beginning to its first call;
- service = from the start (or the first call, without a start) to the leg's end, when served
  (done or transferred).
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import Session

from app.after_commit import Commit, pending, recorded_before
from app.models import EventRow, EventType, TicketEvent
from app.models.leg import SERVED_OUTCOMES, LegOutcome, TicketLeg
from app.queueing.localday import to_local
from app.queueing.lookup import clinic_setup
from app.queueing.rollups import share_of
from app.queueing.rows import LEG_INSERT, LegRow, TicketRow, save_legs
from app.queueing.states import LEG_ENDINGS

log = logging.getLogger("antrean")


def local_hour(moment: datetime, timezone: str) -> int:
    local = to_local(moment, timezone)
    assert local is not None
    return local.hour


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def begin_leg(
    event: TicketEvent,
    *,
    visit_date: date,
    service_id: int,
    leg: int,
    hour: int,
    target: int | None,
) -> TicketLeg:
    return TicketLeg(
        ticket_id=event.ticket_id,
        leg=leg,
        clinic_id=event.clinic_id,
        service_id=service_id,
        visit_date=visit_date,
        entered_hour=hour,
        entered_at=event.at,
        target_wait_minutes=target,
    )


def advance(leg: TicketLeg | LegRow, event: TicketEvent | EventRow) -> None:
    """What one event (other than the issue) does to its leg."""
    kind = event.type
    if kind in (EventType.called, EventType.recalled):
        leg.counter_id = event.counter_id
        if kind is EventType.recalled:
            leg.recalls += 1
        if leg.first_called_at is None:
            leg.first_called_at = event.at
            leg.wait_seconds = _seconds(event.at, leg.entered_at)
    elif kind is EventType.started:
        if leg.started_at is None:
            leg.started_at = event.at
    elif kind is EventType.requeued:  # the patient came late: the same leg goes on
        leg.outcome = None
        leg.ended_at = None
    elif kind is EventType.expired and leg.outcome is LegOutcome.no_show:
        return  # the day closing on a no-show: the leg ended at the no-show
    elif kind in LEG_ENDINGS:
        leg.outcome = LEG_ENDINGS[kind]
        leg.ended_at = event.at
        served_from = leg.started_at or leg.first_called_at
        if leg.outcome in SERVED_OUTCOMES and served_from is not None:
            leg.service_seconds = _seconds(event.at, served_from)


def record_leg(session: Session, ticket: TicketRow, event: EventRow) -> None:
    """Advance the ticket's current leg by an event being recorded in this session (beginning
    a leg for an issue or a transfer), and note the change of its share for the rollups. A leg
    begun is inserted when the transaction ends, a leg changed is written when the command
    ends (`write_legs`), the rollups with the transaction."""
    recorded = pending(session)
    setup = clinic_setup(session, event.clinic_id)

    def begin(service_id: int, leg: int) -> LegRow:
        service = setup.services.get(service_id)
        began = LegRow(
            ticket_id=event.ticket_id,
            leg=leg,
            clinic_id=event.clinic_id,
            service_id=service_id,
            visit_date=ticket.visit_date,
            entered_hour=local_hour(event.at, setup.clinic.timezone),
            entered_at=event.at,
            target_wait_minutes=service.target_wait_minutes if service else None,
        )
        recorded.leg_inserts[(began.ticket_id, began.leg)] = began
        recorded.rollup_shifts.append((None, share_of(began)))
        return began

    if event.type is EventType.issued:
        ticket.current_leg = begin(event.service_id, event.leg)
        return
    current = ticket.current_leg or _begun_earlier(session, event.ticket_id, event.leg)
    if current is None or current.leg != event.leg:
        # Legs out of step with the log must not stop a queue: say so (rebuild_legs mends it).
        log.error("ticket %s has no leg %s; run rebuild_legs", event.ticket_id, event.leg)
    else:
        before = share_of(current)
        advance(current, event)
        recorded.rollup_shifts.append((before, share_of(current)))
        if current.id is None:  # not written yet: inserted as it is when the transaction ends
            recorded.leg_inserts[(current.ticket_id, current.leg)] = current
        elif not any(leg is current for leg in recorded.leg_updates):
            recorded.leg_updates.append(current)
    if event.type is EventType.transferred and event.to_service_id is not None:
        ticket.current_leg = begin(event.to_service_id, event.leg + 1)


def _begun_earlier(session: Session, ticket_id: int, leg: int) -> LegRow | None:
    """A leg begun by this command or an earlier one of the transaction, not yet inserted: a
    copy, so that a command refused after changing it leaves the transaction's version as it
    was."""
    key = (ticket_id, leg)
    own: LegRow | None = pending(session).leg_inserts.get(key)
    if own is not None:
        return own
    earlier = recorded_before(session)
    found: LegRow | None = earlier.leg_inserts.get(key) if earlier is not None else None
    return None if found is None else replace(found)


def write_legs(session: Session) -> None:
    """The command's last writes of legs: the legs it changed that were already in the
    database (one statement)."""
    recorded = pending(session)
    if recorded.leg_updates:
        save_legs(session, recorded.leg_updates)
        recorded.leg_updates = []


def insert_legs(session: Session, commit: Commit) -> None:
    """The transaction's legs begun, as they are now (one statement)."""
    LEG_INSERT.add_many(session, commit.leg_inserts.values())
    commit.leg_inserts = {}


def derive_legs(
    events: Iterable[tuple[TicketEvent, date]],
    *,
    timezone_of: Callable[[int], str],
    target_of: Callable[[int], int | None],
) -> list[TicketLeg]:
    """Every leg from the event log alone (events in log order, each with its ticket's date)."""
    legs: dict[tuple[int, int], TicketLeg] = {}

    def start(event: TicketEvent, visit_date: date, service_id: int, leg: int) -> None:
        legs[(event.ticket_id, leg)] = begin_leg(
            event,
            visit_date=visit_date,
            service_id=service_id,
            leg=leg,
            hour=local_hour(event.at, timezone_of(event.clinic_id)),
            target=target_of(service_id),
        )

    for event, visit_date in events:
        if event.type is EventType.issued:
            start(event, visit_date, event.service_id, event.leg)
            continue
        advance(legs[(event.ticket_id, event.leg)], event)
        if event.type is EventType.transferred and event.to_service_id is not None:
            start(event, visit_date, event.to_service_id, event.leg + 1)
    return list(legs.values())
