"""What follows a commit, in one place.

A write command records ticket events (`queueing.events.record`) and notes directory changes
(`note_clinic_changed`) on its session. The writer (`app.writer`) collects what each command
recorded, drops what a rejected command recorded, and after the COMMIT hands one `Commit` to
`AfterCommit.deliver`, in commit order. The consumers registered here then run on a thread of
their own, one commit after another: the realtime feeds (hub, and Redis through it) and the
metrics. A consumer that fails is logged and counted; the write it follows has already been
answered and stays committed.
"""

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.models import EventRow, Priority

log = logging.getLogger(__name__)

PENDING_EVENTS = "antrean_pending_events"
CHANGED_CLINICS = "antrean_changed_clinics"


@dataclass(frozen=True, slots=True)
class TicketBrief:
    """What a display message shows of a ticket that an event in the commit changed."""

    id: int
    code: str
    priority: Priority


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
    # consumers: legs begun and legs changed by the command (written when it ends), and the
    # changes of leg shares for the report rollups (summed and written when the batch ends).
    leg_inserts: list[Any] = field(default_factory=list)
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
        self.rollup_shifts.extend(other.rollup_shifts)


Consumer = Callable[[Commit], None]


@dataclass
class _Marker:
    """Put behind the commits delivered so far: set once they have been consumed."""

    done: threading.Event


def pending(session: Session) -> Commit:
    """What the session's current command has recorded so far (the writer takes it)."""
    found: Commit | None = session.info.get(PENDING_EVENTS)
    if found is None:
        found = session.info[PENDING_EVENTS] = Commit()
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
    """The consumers of committed work, fed in commit order from one thread."""

    def __init__(self, on_failure: Callable[[str], None] | None = None) -> None:
        self._on_failure = on_failure
        self._consumers: list[tuple[str, Consumer]] = []
        self._inline: list[tuple[str, Consumer]] = []
        self._queue: queue.SimpleQueue[Commit | _Marker | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.failures: dict[str, int] = {}

    def register(self, name: str, consumer: Consumer, *, inline: bool = False) -> None:
        """`inline` consumers run on the writer's thread before it answers (they must be
        quick and never block): what they do is seen by the very next request."""
        (self._inline if inline else self._consumers).append((name, consumer))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="after-commit", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def deliver(self, commit: Commit) -> None:
        """From the writer, right after a COMMIT returned. Never raises, never waits."""
        if not commit:
            return
        self._run_each(self._inline, commit)
        if self._thread is None:
            self.run_consumers(commit)
        else:
            self._queue.put(commit)

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
        """Wait until everything delivered so far has been consumed (tests, shutdown)."""
        done = threading.Event()
        if self._thread is None:
            return
        self._queue.put(_Marker(done))
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            commit = self._queue.get()
            if commit is None:
                return
            if isinstance(commit, _Marker):
                commit.done.set()
                continue
            self.run_consumers(commit)
