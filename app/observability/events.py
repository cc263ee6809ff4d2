"""Counting committed ticket events, once each, in the process that committed them.

The session's after_commit hook (app/realtime/publish.py) notes what each commit recorded;
`committed_messages` (the one place, after the commit, that every request and the end-of-day
sweep go through, and that forgets what it handled) hands the note to the counters of the
app whose engine it is. The feeds' own delivery is no place for this: with Redis every process
receives every event, and catch-up reads replay them.
"""

from collections.abc import Callable, Iterable
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlmodel import Session

from app.models import EventType, Ticket, TicketEvent

NOTED = "antrean_metrics_noted"
COUNTED = frozenset({EventType.issued, EventType.called, EventType.completed})

# (event type, clinic id, channel of an issued ticket)
Tally = tuple[EventType, int, str | None]
Sink = Callable[[Iterable[Tally]], None]

_sinks: "WeakKeyDictionary[Engine, Sink]" = WeakKeyDictionary()


def watch(engine: Engine, sink: Sink) -> None:
    """Events committed through `engine` go to `sink` (set once, when the app starts)."""
    _sinks[engine] = sink


def _channel(session: Session, event: TicketEvent) -> str | None:
    # The issuing code still holds its Ticket while it commits, so the session's identity map
    # has it; after a commit no SQL may run here, so look it up without any.
    ticket = session.identity_map.get(Session.identity_key(Ticket, event.ticket_id))
    return ticket.channel.value if isinstance(ticket, Ticket) else None


def note_committed(session: Session, committed: list[TicketEvent]) -> None:
    """From the after_commit hook: remember the counted events this commit made permanent."""
    noted = [
        (
            event.type,
            event.clinic_id,
            _channel(session, event) if event.type is EventType.issued else None,
        )
        for event in committed
        if event.type in COUNTED
    ]
    if noted:
        session.info.setdefault(NOTED, []).extend(noted)


def count_committed(session: Session, engine: Engine) -> None:
    """After the commit: count what the session noted (and forget it)."""
    noted: list[Tally] = session.info.pop(NOTED, [])
    sink = _sinks.get(engine)
    if noted and sink is not None:
        sink(noted)
