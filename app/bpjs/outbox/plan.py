"""Which ticket events BPJS hears about, written as outbox rows in the events' own transaction.

Called by `end_transaction` (app/queueing/events.py) with the transaction's `Commit`: the
tickets' channel travels in the commit, so a transaction without a BPJS ticket among its events
costs one pass over them in memory and no query. Only tickets booked through Mobile JKN (channel
`bpjs`, with a booking link) are reported:

- the first call of a ticket: `antrean/panggil` status 1 (hadir), `waktu` the call's time in
  epoch milliseconds. Recalls, and calls in later services after a transfer, send nothing (the
  patient's presence was reported); a call after a no-show and a requeue sends status 1 again
  (the patient did come after all);
- a no-show: `antrean/panggil` status 2 (tidak hadir), once until the patient is called again;
- a cancellation by staff or by the patient: `antrean/batal` with the reason; a cancellation
  that BPJS itself asked for (Mobile JKN's batal, which flags the link) sends nothing back;
- the end-of-day expiry: nothing (it runs once the visit's day is over, when a cancellation of
  that day's booking would tell BPJS nothing it can still act on; presence, or its absence, was
  reported when it happened).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert
from sqlmodel import Session

from app.after_commit import Commit
from app.bpjs.outbox.links import BookingRef, booking_ref
from app.models import BpjsOutbox, Channel, EventRow, EventType, OutboxKind, OutboxState
from app.prepared import Prepared

HADIR = 1
TIDAK_HADIR = 2

# What a cancellation tells BPJS, by who cancelled.
BY_STAFF = "Dibatalkan oleh petugas puskesmas"
BY_PATIENT = "Dibatalkan oleh pasien"

_REPORTED = (EventType.called, EventType.no_show, EventType.cancelled)
_TABLE: Any = BpjsOutbox.__table__  # type: ignore[attr-defined]
_INSERTED = (
    "clinic_id",
    "ticket_id",
    "ticket_code",
    "kind",
    "status",
    "payload",
    "state",
    "attempts",
    "created_at",
    "next_attempt_at",
)


def reported_events(commit: Commit) -> list[EventRow]:
    """The commit's events BPJS may hear about: of BPJS tickets, of the kinds it takes."""
    tickets = commit.tickets
    return [
        event
        for event in commit.events
        if event.type in _REPORTED and tickets[event.ticket_id].channel is Channel.bpjs
    ]


def write_outbox(session: Session, commit: Commit) -> int:
    """Write the outbox rows of the commit's events (before the COMMIT): how many."""
    events = reported_events(commit)
    if not events:
        return 0
    refs: dict[int, BookingRef] = {}
    last_panggil: dict[int, int] = {}
    for ticket_id in dict.fromkeys(event.ticket_id for event in events):
        found = booking_ref(session, ticket_id)
        if found is not None:
            refs[ticket_id] = found[0]
            if found[1] is not None:
                last_panggil[ticket_id] = found[1]
    rows = plan_rows(events, refs, last_panggil, commit) if refs else []
    if rows:
        _INSERT.run_many(session, rows)
    return len(rows)


def plan_rows(
    events: list[EventRow],
    refs: dict[int, BookingRef],
    last_panggil: dict[int, int],
    commit: Commit,
) -> list[dict[str, Any]]:
    """The rows for these events, in order; `last_panggil`: each ticket's latest panggil status
    already in the outbox (moved along as rows are planned)."""
    rows: list[dict[str, Any]] = []
    for event in events:
        ref = refs.get(event.ticket_id)
        if ref is None:
            continue
        if event.type is EventType.called or event.type is EventType.no_show:
            status = HADIR if event.type is EventType.called else TIDAK_HADIR
            if last_panggil.get(event.ticket_id) == status:
                continue
            last_panggil[event.ticket_id] = status
            body = {**ref.body(), "status": status, "waktu": epoch_ms(event.at)}
            rows.append(_row(event, commit, OutboxKind.panggil, status, body))
        elif not ref.cancelled_by_bpjs:
            alasan = BY_PATIENT if event.user_id is None and event.device_id is None else BY_STAFF
            body = {**ref.body(), "alasan": alasan}
            rows.append(_row(event, commit, OutboxKind.batal, None, body))
    return rows


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _row(
    event: EventRow, commit: Commit, kind: OutboxKind, status: int | None, body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "clinic_id": event.clinic_id,
        "ticket_id": event.ticket_id,
        "ticket_code": commit.tickets[event.ticket_id].code,
        "kind": kind,
        "status": status,
        "payload": body,
        "state": OutboxState.pending,
        "attempts": 0,
        "created_at": event.at,
        "next_attempt_at": event.at,
    }


_INSERT = Prepared(
    lambda _dialect: insert(_TABLE).values(
        {name: bindparam(name, type_=_TABLE.c[name].type) for name in _INSERTED}
    )
)
