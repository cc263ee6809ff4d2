"""The realtime feeds' after-commit consumer: render each commit's events once, hand them to
the hub (which also sends them to the other processes through Redis)."""

import logging
from collections import defaultdict
from typing import Annotated

from fastapi import Depends, Request

from app.after_commit import Commit, Consumer
from app.directory.setups import Setups
from app.models import EventRow
from app.realtime.hub import ACCOUNTS_CHANGED, CLINIC_CHANGED, Hub, Message
from app.realtime.render import render_committed

log = logging.getLogger(__name__)


def committed_messages(commit: Commit, setups: Setups) -> list[Message]:
    """The feed messages for one commit: its ticket events, then a `clinic.changed` for each
    clinic whose setup changed, and an `accounts.changed` for the other processes.

    The events are rendered from what the commands wrote (each event with the waiting counts
    it changed, the commit with each ticket's code and priority) and the clinic's setup from
    memory (read once when it is not there)."""
    by_clinic: dict[int, list[EventRow]] = defaultdict(list)
    for event in commit.events:
        by_clinic[event.clinic_id].append(event)
    messages: list[Message] = []
    for clinic_id, events in by_clinic.items():
        setup = setups.clinic(clinic_id)
        if setup is None:  # clinics are never deleted
            log.error("events of unknown clinic %s not sent to its feeds", clinic_id)
            continue
        messages.extend(render_committed(events, commit.tickets, setup))
    messages.extend(clinic_changed(clinic_id) for clinic_id in commit.changed_clinics)
    if commit.changed_users or commit.changed_devices:
        messages.append(accounts_changed(commit))
    return messages


def feeds_consumer(hub: Hub, setups: Setups) -> Consumer:
    def consume(commit: Commit) -> None:
        hub.publish_soon(committed_messages(commit, setups))

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
