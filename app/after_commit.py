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

from sqlmodel import Session

from app.models import Priority, Ticket, TicketEvent

log = logging.getLogger(__name__)

PENDING_EVENTS = "antrean_pending_events"
CHANGED_CLINICS = "antrean_changed_clinics"


@dataclass(frozen=True)
class TicketBrief:
    """What a display message shows of a ticket that an event in the commit changed."""

    id: int
    code: str
    priority: Priority


@dataclass
class Commit:
    """What one transaction made permanent, in the order it was recorded."""

    events: list[TicketEvent] = field(default_factory=list)
    # The tickets of those events, so the feeds render them without reading them back.
    tickets: dict[int, TicketBrief] = field(default_factory=dict)
    # The channel of each ticket issued in this commit, for the metrics (no SQL after commit).
    issued_channels: dict[int, str] = field(default_factory=dict)
    changed_clinics: list[int] = field(default_factory=list)
    # Accounts and devices whose sign-in changed (app.directory.accounts caches them).
    changed_users: set[int] = field(default_factory=set)
    changed_devices: set[int] = field(default_factory=set)

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


Consumer = Callable[[Commit], None]


@dataclass
class _Marker:
    """Put behind the commits delivered so far: set once they have been consumed."""

    done: threading.Event


def note_event(
    session: Session, event: TicketEvent, ticket: Ticket, *, channel: str | None = None
) -> None:
    """Called by `events.record`: this event (of this ticket) follows the transaction's commit."""
    pending = session.info.setdefault(PENDING_EVENTS, Commit())
    pending.events.append(event)
    assert ticket.id is not None
    pending.tickets[ticket.id] = TicketBrief(ticket.id, ticket.code, ticket.priority)
    if channel is not None:
        pending.issued_channels[event.ticket_id] = channel


def note_clinic_changed(session: Session, clinic_id: int) -> None:
    """A clinic's services, counters, devices or settings changed: its feeds take a fresh
    snapshot once this commits."""
    pending = session.info.setdefault(PENDING_EVENTS, Commit())
    if clinic_id not in pending.changed_clinics:
        pending.changed_clinics.append(clinic_id)


def note_account_changed(
    session: Session, *, user_id: int | None = None, device_id: int | None = None
) -> None:
    """A staff account or a device key changed (disabled, revoked, re-keyed): every process
    forgets what it remembered of it once this commits."""
    pending = session.info.setdefault(PENDING_EVENTS, Commit())
    if user_id is not None:
        pending.changed_users.add(user_id)
    if device_id is not None:
        pending.changed_devices.add(device_id)


def pending_events(session: Session) -> list[TicketEvent]:
    """The events recorded in the session since the last `take_pending`."""
    pending: Commit | None = session.info.get(PENDING_EVENTS)
    return pending.events if pending is not None else []


def take_pending(session: Session) -> Commit:
    """What the session recorded since the last call (and forget it)."""
    pending: Commit = session.info.pop(PENDING_EVENTS, None) or Commit()
    return pending


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
