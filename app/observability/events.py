"""Counting committed ticket events, once each, in the process that committed them.

An after-commit consumer (app/after_commit.py): the writer hands it every commit, so each event
is counted once, where it was written. The feeds' own delivery is no place for this: with Redis
every process receives every event, and catch-up reads replay them.
"""

from collections.abc import Callable, Iterable

from app.after_commit import Commit, Consumer
from app.models import EventType

COUNTED = frozenset({EventType.issued, EventType.called, EventType.completed})

# (event type, clinic id, channel of an issued ticket)
Tally = tuple[EventType, int, str | None]
Sink = Callable[[Iterable[Tally]], None]


def counting_consumer(sink: Sink) -> Consumer:
    """A consumer that tallies each commit's counted events into `sink`."""

    def consume(commit: Commit) -> None:
        tally = [
            (
                event.type,
                event.clinic_id,
                commit.issued_channels.get(event.ticket_id)
                if event.type is EventType.issued
                else None,
            )
            for event in commit.events
            if event.type in COUNTED
        ]
        if tally:
            sink(tally)

    return consume
