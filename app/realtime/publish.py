"""The realtime feeds' after-commit consumer: render each commit's events once, hand them to
the hub (which also sends them to the other processes through Redis)."""

import logging
from collections import defaultdict
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from app.after_commit import Commit, Consumer
from app.clock import Clock
from app.db import open_session
from app.directory.setups import Setups
from app.models import TicketEvent
from app.realtime.hub import ACCOUNTS_CHANGED, CLINIC_CHANGED, Hub, Message
from app.realtime.render import render_committed, render_events

log = logging.getLogger(__name__)


def committed_messages(
    engine: Engine, commit: Commit, now: datetime, setups: Setups | None = None
) -> list[Message]:
    """The feed messages for one commit: its ticket events, then a `clinic.changed` for each
    clinic whose setup changed, and an `accounts.changed` for the other processes.

    The events are rendered from what the commands wrote (the commit carries each ticket's
    code and priority) and the clinic's setup; only the services' waiting counts are read, in
    a session of its own, which on SQLite never waits for the writer. Without a setup, the
    events are read back."""
    by_clinic: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in commit.events:
        by_clinic[event.clinic_id].append(event)
    messages: list[Message] = []
    if by_clinic:
        with open_session(engine, write=False) as reader:
            for clinic_id, events in by_clinic.items():
                setup = setups.clinic(clinic_id) if setups is not None else None
                if setup is not None and all(e.ticket_id in commit.tickets for e in events):
                    messages.extend(render_committed(reader, events, commit.tickets, setup, now))
                    continue
                seqs = [event.seq for event in events]
                messages.extend(render_events(reader, clinic_id, min(seqs), max(seqs), now))
    messages.extend(clinic_changed(clinic_id) for clinic_id in commit.changed_clinics)
    if commit.changed_users or commit.changed_devices:
        messages.append(accounts_changed(commit))
    return messages


def feeds_consumer(
    engine: Engine, hub: Hub, clock: Clock, setups: Setups | None = None
) -> Consumer:
    def consume(commit: Commit) -> None:
        hub.publish_threadsafe(committed_messages(engine, commit, clock(), setups))

    return consume


def clinic_changed(clinic_id: int) -> Message:
    """Told to a clinic's feeds when its services, counters or settings change (no `seq`: it
    is no ticket event). Displays take a fresh snapshot; patients' feeds recompute."""
    return {"type": CLINIC_CHANGED, "clinic_id": clinic_id}


def accounts_changed(commit: Commit) -> Message:
    """Told to every process (this one has forgotten them already): forget these sign-ins."""
    return {
        "type": ACCOUNTS_CHANGED,
        "users": sorted(commit.changed_users),
        "devices": sorted(commit.changed_devices),
    }


async def get_hub(request: Request) -> Hub | None:
    hub = getattr(request.app.state, "hub", None)
    return hub if isinstance(hub, Hub) else None


HubDep = Annotated[Hub | None, Depends(get_hub)]
