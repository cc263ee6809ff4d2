"""What follows a commit, in one place.

A write command records ticket events (`queueing.events.record`) and notes directory changes
(`note_clinic_changed`) on its session. The writer (`app.writer`) collects what each command
recorded, drops what a rejected command recorded, and after the COMMIT hands one `Commit` to
`AfterCommit.deliver`, in commit order. The consumers registered in app/main.py then run on
the event loop, one commit after another: the realtime feeds (hub, and Redis through it) and
the metrics; the directory's memory forgets what changed before the writer answers (inline).
A consumer that fails is logged and counted; the write it follows stays committed.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.models import Channel, EventRow, Priority

log = logging.getLogger(__name__)

PENDING_EVENTS = "antrean_pending_events"


@dataclass(frozen=True, slots=True)
class TicketBrief:
    """What a display message shows of a ticket that an event in the commit changed."""

    id: int
    code: str
    priority: Priority
    # What the pre-commit stages filter on without a query (the BPJS outbox: channel bpjs).
    channel: Channel


@dataclass
class Commit:
    """What one transaction made permanent, in the order it was recorded."""

    events: list[EventRow] = field(default_factory=list)
    # The tickets of those events, so the feeds render them without reading them back.
    tickets: dict[int, TicketBrief] = field(default_factory=dict)
    # The channel of each ticket issued in this commit, for the metrics (no SQL after commit).
    issued_channels: dict[int, str] = field(default_factory=dict)
    changed_clinics: list[int] = field(default_factory=list)
    # Accounts and devices whose sign-in changed (app.directory.accounts caches them).
    changed_users: set[int] = field(default_factory=set)
    changed_devices: set[int] = field(default_factory=set)
    # What the writer still writes before the COMMIT (app/queueing/events.py), not for the
    # consumers: legs begun (by ticket id and leg; inserted when the transaction ends), legs
    # changed (written when the command ends), and the changes of leg shares for the report
    # rollups (summed and written when the transaction ends).
    leg_inserts: dict[tuple[int, int], Any] = field(default_factory=dict)
    leg_updates: list[Any] = field(default_factory=list)
    rollup_shifts: list[tuple[Any, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.events or self.changed_clinics or self.changed_users or self.changed_devices
        )

    def extend(self, other: "Commit") -> None:
        self.events.extend(other.events)
        self.tickets.update(other.tickets)
        self.issued_channels.update(other.issued_channels)
        self.changed_clinics.extend(
            c for c in other.changed_clinics if c not in self.changed_clinics
        )
        self.changed_users |= other.changed_users
        self.changed_devices |= other.changed_devices
        self.leg_inserts.update(other.leg_inserts)  # a later version of a leg replaces it
        self.rollup_shifts.extend(other.rollup_shifts)


Consumer = Callable[[Commit], None]


def pending(session: Session) -> Commit:
    """What the session's current command has recorded so far (the writer takes it)."""
    found: Commit | None = session.info.get(PENDING_EVENTS)
    if found is None:
        found = session.info[PENDING_EVENTS] = Commit()
    return found


# Where a command finds what the commands before it in its transaction recorded (the writer
# puts it there): legs they began are not written until the transaction ends.
TRANSACTION = "antrean_transaction"


def recorded_before(session: Session) -> Commit | None:
    """What the earlier commands of the session's transaction recorded, if any."""
    found: Commit | None = session.info.get(TRANSACTION)
    return found


def note_event(
    session: Session, event: EventRow, ticket: TicketBrief, *, channel: str | None = None
) -> None:
    """Called by `events.record`: this event (of this ticket) follows the transaction's commit."""
    recorded = pending(session)
    recorded.events.append(event)
    recorded.tickets[ticket.id] = ticket
    if channel is not None:
        recorded.issued_channels[event.ticket_id] = channel


def note_clinic_changed(session: Session, clinic_id: int) -> None:
    """A clinic's services, counters, devices or settings changed: its feeds take a fresh
    snapshot once this commits."""
    recorded = pending(session)
    if clinic_id not in recorded.changed_clinics:
        recorded.changed_clinics.append(clinic_id)


def note_account_changed(
    session: Session, *, user_id: int | None = None, device_id: int | None = None
) -> None:
    """A staff account or a device key changed (disabled, revoked, re-keyed): every process
    forgets what it remembered of it once this commits."""
    recorded = pending(session)
    if user_id is not None:
        recorded.changed_users.add(user_id)
    if device_id is not None:
        recorded.changed_devices.add(device_id)


def take_pending(session: Session) -> Commit:
    """What the session recorded since the last call (and forget it)."""
    taken: Commit = session.info.pop(PENDING_EVENTS, None) or Commit()
    return taken


class AfterCommit:
    """The consumers of committed work, fed in commit order on the event loop.

    `inline` consumers run at once, where the writer delivers, before it answers anyone; the
    others run on the event loop as soon as it is free, one commit after another (the writer
    is there already on SQLite: no thread to hand the work to, and none to wait for)."""

    def __init__(self, on_failure: Callable[[str], None] | None = None) -> None:
        self._on_failure = on_failure
        self._consumers: list[tuple[str, Consumer]] = []
        self._inline: list[tuple[str, Consumer]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.failures: dict[str, int] = {}

    def register(self, name: str, consumer: Consumer, *, inline: bool = False) -> None:
        """`inline` consumers must be quick and never block: what they do is seen by the very
        next request (forgetting a changed sign-in, say). The others must not block either:
        they run on the event loop."""
        (self._inline if inline else self._consumers).append((name, consumer))

    def start(self) -> None:
        """Called on the event loop that runs the consumers."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    def stop(self) -> None:
        self._loop = None

    def deliver(self, commit: Commit) -> None:
        """From the writer, right after a COMMIT returned. Never raises, never waits."""
        if not commit:
            return
        self._run_each(self._inline, commit)
        if self._loop is None:
            self.run_consumers(commit)
        elif threading.get_ident() == self._loop_thread:
            self._loop.call_soon(self.run_consumers, commit)
        else:
            self._loop.call_soon_threadsafe(self.run_consumers, commit)

    def run_consumers(self, commit: Commit) -> None:
        self._run_each(self._consumers, commit)

    def _run_each(self, consumers: list[tuple[str, Consumer]], commit: Commit) -> None:
        for name, consumer in consumers:
            try:
                consumer(commit)
            except Exception:
                self.failures[name] = self.failures.get(name, 0) + 1
                log.exception("after-commit consumer %s failed", name)
                if self._on_failure is not None:
                    self._on_failure(name)

    def drain(self, timeout: float = 5.0) -> None:
        """From another thread: wait until everything delivered so far has been consumed
        (tests)."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            return
        done = threading.Event()
        loop.call_soon_threadsafe(done.set)  # behind every commit delivered before it
        done.wait(timeout)

    async def settled(self) -> None:
        """On the event loop: let every commit delivered so far be consumed (tests)."""
        await asyncio.sleep(0)
