"""After a commit, render the transaction's events once and hand them to the hub.

Sessions collect the events they record (`queueing.events`); a commit moves them to the
committed list, a rollback drops them. So nothing is ever published that did not commit.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from app.models import TicketEvent
from app.queueing.events import PENDING_EVENTS
from app.realtime.hub import Hub, Message
from app.realtime.render import render_events

COMMITTED_EVENTS = "antrean_committed_events"


@event.listens_for(Session, "after_commit")
def _move_to_committed(session: Session) -> None:
    pending: list[TicketEvent] = session.info.pop(PENDING_EVENTS, [])
    if pending:
        session.info.setdefault(COMMITTED_EVENTS, []).extend((e.clinic_id, e.seq) for e in pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_EVENTS, None)


def committed_messages(session: Session, now: datetime) -> list[Message]:
    """Render what this session committed (and forget it); call after the commit."""
    committed: list[tuple[int, int]] = session.info.pop(COMMITTED_EVENTS, [])
    by_clinic: dict[int, list[int]] = defaultdict(list)
    for clinic_id, seq in committed:
        by_clinic[clinic_id].append(seq)
    messages: list[Message] = []
    for clinic_id, seqs in by_clinic.items():
        messages.extend(render_events(session, clinic_id, min(seqs), max(seqs), now))
    session.rollback()  # end the read transaction the rendering opened
    return messages


def publish_committed(session: Session, hub: Any, now: datetime) -> None:
    """From a worker thread: render and publish this session's committed events."""
    if session.info.get(COMMITTED_EVENTS) and isinstance(hub, Hub):
        hub.publish_threadsafe(committed_messages(session, now))
