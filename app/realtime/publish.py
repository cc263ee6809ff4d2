"""After a commit, render the transaction's events once and hand them to the hub.

Sessions collect the events they record (`queueing.events`); a commit moves them to the
committed list, a rollback drops them. So nothing is ever published that did not commit.
"""

import logging
from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlmodel import Session

from app.db import open_session
from app.models import TicketEvent
from app.observability.events import count_committed, note_committed
from app.queueing.events import PENDING_EVENTS
from app.realtime.hub import Hub, Message
from app.realtime.render import render_events

log = logging.getLogger(__name__)

COMMITTED_EVENTS = "antrean_committed_events"


@event.listens_for(Session, "after_commit")
def _move_to_committed(session: Session) -> None:
    pending: list[TicketEvent] = session.info.pop(PENDING_EVENTS, [])
    if pending:
        session.info.setdefault(COMMITTED_EVENTS, []).extend((e.clinic_id, e.seq) for e in pending)
        note_committed(session, pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_EVENTS, None)


def committed_messages(session: Session, engine: Engine, now: datetime) -> list[Message]:
    """Render what this session committed (and forget it); call after the commit.

    Rendering reads in a session of its own: on SQLite a read must not queue behind writers.
    """
    count_committed(session, engine)  # the metrics' counters, once per committed event
    committed: list[tuple[int, int]] = session.info.pop(COMMITTED_EVENTS, [])
    if not committed:
        return []
    by_clinic: dict[int, list[int]] = defaultdict(list)
    for clinic_id, seq in committed:
        by_clinic[clinic_id].append(seq)
    messages: list[Message] = []
    with open_session(engine, write=False) as reader:
        for clinic_id, seqs in by_clinic.items():
            messages.extend(render_events(reader, clinic_id, min(seqs), max(seqs), now))
    return messages


def publish_committed(session: Session, engine: Engine, hub: Any, now: datetime) -> None:
    """From a worker thread: render and publish this session's committed events. Never
    raises: the hubs' periodic check delivers whatever could not be published here."""
    if not session.info.get(COMMITTED_EVENTS) or not isinstance(hub, Hub):
        return
    try:
        hub.publish_threadsafe(committed_messages(session, engine, now))
    except Exception:
        log.exception("could not publish committed events")


def clinic_changed(clinic_id: int) -> Message:
    """Told to a clinic's feeds when its services, counters or settings change (no `seq`: it
    is no ticket event). Displays take a fresh snapshot; patients' feeds recompute."""
    return {"type": "clinic.changed", "clinic_id": clinic_id}


def get_hub(request: Request) -> Hub | None:
    hub = getattr(request.app.state, "hub", None)
    return hub if isinstance(hub, Hub) else None


HubDep = Annotated[Hub | None, Depends(get_hub)]


def publish_clinic_changed(hub: Hub | None, clinic_id: int) -> None:
    if hub is not None:
        hub.publish_threadsafe([clinic_changed(clinic_id)])
