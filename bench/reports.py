"""Reports over a city-year: generate one, then time the reports the health office runs.

Generates a city-year (default: 30 clinics, every working day of 2025, about 2.5 million
tickets), seeded, into a fresh SQLite file and a PostgreSQL database, both created by the real
migrations. Each clinic-day is simulated: arrivals peaking 07:30-10:00 local, journeys
Pendaftaran -> Poli -> Laboratorium/Apotek by transfers, priority tickets (the service's
queue_key rule), recalls, no-shows (some requeued), cancels, expiries at the local midnight
sweep. The event log is replayed the way the service writes it (ticket fields as
app/queueing/actions.py sets them; legs by app.queueing.legs.advance, checked equal to
derive_legs on a sample), and every value is bound by the models' own column types before a
bulk insert (executemany on SQLite, COPY on PostgreSQL).

Then times, on each database: the month report by clinic for the whole city (the domain
function, and the HTTP request through a real `python -m app` server), the day report by hour
for one clinic, and the ticket-log export over HTTP (one month, then the full year: time to
first byte, total, rows/s, and the server's RSS sampled while it streams).

    .venv/bin/python -m bench.reports                  # --clinics 30 --days 0 (all) --db both
    .venv/bin/python -m bench.reports --keep           # reuse the generated databases
    .venv/bin/python -m bench.reports --clinics 3 --days 10 --db sqlite   # a quick look
"""

import argparse
import bisect
import hashlib
import heapq
import itertools
import json
import math
import operator
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx2 as httpx
import psycopg
from sqlalchemy import Date as SaDate
from sqlalchemy import Engine, and_, case, func, make_url, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Dialect
from sqlmodel import Session, col, select

from app.auth.passwords import hash_password
from app.auth.secrets import digest
from app.db import make_engine, open_session
from app.migrate import upgrade_to_head
from app.models import (
    Channel,
    Clinic,
    Counter,
    CounterService,
    DailySequence,
    Device,
    DeviceKind,
    EventType,
    LegOutcome,
    Priority,
    Role,
    Service,
    Ticket,
    TicketEvent,
    TicketLeg,
    TicketStatus,
    User,
)
from app.models.base import StrEnumType, UTCDateTime
from app.queueing.legs import advance, derive_legs
from app.queueing.localday import to_local
from app.queueing.numbering import ticket_code
from app.queueing.priority import queue_key
from app.queueing.rollups import rebuild_rollups
from app.queueing.states import Action, step
from app.reports.figures import minutes
from app.reports.figures import share as share_pct
from app.reports.query import GroupBy, ReportQuery
from app.reports.wait_times import wait_times
from bench.servers import ADMIN, Server

YEAR = 2025
SEED = 20251
TICKETS_PER_CLINIC_DAY = 270
BENCH_DIR = Path(tempfile.gettempdir()) / "antrean-bench-reports"
# National holidays and collective leave of 2025 (puskesmas closed, apart from emergencies).
HOLIDAYS = {
    date(2025, 1, 1),
    date(2025, 1, 27),
    date(2025, 1, 29),
    date(2025, 3, 28),
    date(2025, 3, 31),
    *(date(2025, 4, d) for d in range(1, 8)),
    date(2025, 4, 18),
    date(2025, 5, 1),
    date(2025, 5, 12),
    date(2025, 5, 29),
    date(2025, 6, 6),
    date(2025, 6, 27),
    date(2025, 9, 5),
    date(2025, 12, 25),
    date(2025, 12, 26),
}
NAMES = (
    "Klandasan Ilir", "Klandasan Ulu", "Prapatan", "Damai", "Sepinggan", "Sepinggan Baru",
    "Gunung Sari Ilir", "Gunung Sari Ulu", "Karang Rejo", "Karang Jati", "Mekar Sari",
    "Muara Rapak", "Baru Tengah", "Baru Ulu", "Marga Sari", "Manggar", "Manggar Baru", "Lamaru",
    "Teritip", "Batu Ampar", "Graha Indah", "Gunung Samarinda", "Sumber Rejo", "Telaga Sari",
    "Kariangau", "Kampung Baru", "Margo Mulyo", "Batakan", "Sungai Nangka", "Gunung Bahagia",
)  # fmt: skip
# A city runs on one zone; two clinics in the other two keep local days and hours honest.
OTHER_ZONES = {28: "Asia/Jakarta", 29: "Asia/Jayapura"}


@dataclass(frozen=True)
class ServicePlan:
    prefix: str
    name: str
    entry: bool
    target: int
    minutes: float  # mean service time
    start_share: float  # how often staff press Start
    no_show_share: float
    # Where the patient goes next when served: (prefix or "" for done, weight).
    then: tuple[tuple[str, float], ...]


PLANS = (
    ServicePlan("A", "Pendaftaran", True, 15, 2.5, 0.0, 0.03,
                (("B", 58), ("D", 20), ("C", 12), ("", 10))),
    ServicePlan("B", "Poli Umum", True, 30, 6.5, 0.6, 0.04, (("F", 72), ("E", 12), ("", 16))),
    ServicePlan("C", "Poli Gigi", True, 30, 14.0, 0.8, 0.04, (("F", 40), ("", 60))),
    ServicePlan("D", "KIA/KB", True, 30, 10.0, 0.7, 0.04, (("F", 45), ("E", 15), ("", 40))),
    ServicePlan("E", "Laboratorium", False, 30, 8.0, 0.5, 0.03, (("F", 50), ("", 50))),
    ServicePlan("F", "Apotek", False, 15, 3.5, 0.1, 0.05, (("", 100),)),
)  # fmt: skip
ORDER = {plan.prefix: index for index, plan in enumerate(PLANS)}
DIRECT_ENTRY = (("B", 60), ("D", 30), ("C", 10))  # phone/BPJS patients straight to a poli
WEEKDAY_LOAD = (1.25, 1.1, 1.0, 1.0, 0.85, 0.8)  # Monday busiest; Friday and Saturday short
# Local (hh:mm): registration closes, counters stop calling (Mon-Thu, Fri, Sat).
HOURS = {0: ("12:00", "14:00"), 4: ("10:30", "11:30"), 5: ("11:00", "12:30")}
PRIORITIES = ((Priority.elderly, 8), (Priority.child, 6), (Priority.pregnant, 4),
              (Priority.disabled, 1), (Priority.none, 81))  # fmt: skip
DIRECT_CHANNELS = ((Channel.bpjs, 45), (Channel.phone, 35), (Channel.kiosk, 20))
DESK_CHANNELS = ((Channel.kiosk, 75), (Channel.staff, 10), (Channel.phone, 10), (Channel.bpjs, 5))
LEAD_SECONDS = 60 * 60  # Service.priority_lead_minutes default


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


_CUMULATIVE: dict[int, tuple[list[Any], list[float]]] = {}


def _pick(rng: random.Random, choices: Sequence[tuple[Any, float]]) -> Any:
    found = _CUMULATIVE.get(id(choices))
    if found is None:
        found = _CUMULATIVE[id(choices)] = (
            [c for c, _ in choices],
            list(itertools.accumulate(w for _, w in choices)),
        )
    items, cumulative = found
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def working_days(days: int) -> list[date]:
    found = []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        if day.weekday() < 6 and day not in HOLIDAYS:
            found.append(day)
        day += timedelta(days=1)
    return found[:days] if days else found


# --- the city: clinics, services, counters, staff, kiosks (through the ORM) ---------------


@dataclass
class ClinicSetup:
    id: int
    timezone: str
    size: float
    services: dict[str, int]  # prefix -> service id
    counters: dict[str, list[int]]  # prefix -> counter ids
    staff: dict[int, int]  # counter id -> user id
    kiosk: int


def _expected_legs(size: float) -> dict[str, float]:
    """Legs per service on a busy day, for sizing the counters."""
    load = {plan.prefix: 0.0 for plan in PLANS}
    load["A"] = 0.72
    for prefix, weight in DIRECT_ENTRY:
        load[prefix] += 0.28 * weight / 100
    for plan in PLANS:
        for target, share in plan.then:
            if target:
                load[target] += load[plan.prefix] * share / 100
    return {prefix: share * TICKETS_PER_CLINIC_DAY * size * 1.2 for prefix, share in load.items()}


def build_city(engine: Engine, clinics: int, rng: random.Random) -> list[ClinicSetup]:
    staff_hash = hash_password("bench-staff-password")
    setups = []
    with open_session(engine, write=True) as session:
        session.add(User(username=ADMIN[0], password_hash=hash_password(ADMIN[1]), role=Role.admin))
        for index in range(clinics):
            name = NAMES[index % len(NAMES)] + ("" if index < len(NAMES) else f" {index}")
            timezone = OTHER_ZONES.get(index, "Asia/Makassar") if clinics > 10 else "Asia/Makassar"
            clinic = Clinic(
                code=f"PKM{index + 1:03d}",
                name=f"Puskesmas {name}",
                timezone=timezone,
                address=f"Jl. {name} No. {rng.randint(1, 200)}, Balikpapan",
                opening_hours="Senin-Kamis 07.30-14.30, Jumat 07.30-11.30, Sabtu 07.30-12.30",
            )
            session.add(clinic)
            session.flush()
            assert clinic.id is not None
            size = rng.uniform(0.6, 1.4)
            expected = _expected_legs(size)
            services: dict[str, int] = {}
            counters: dict[str, list[int]] = {}
            staff: dict[int, int] = {}
            for plan in PLANS:
                service = Service(
                    clinic_id=clinic.id,
                    name=plan.name,
                    prefix=plan.prefix,
                    entry=plan.entry,
                    target_wait_minutes=plan.target,
                    default_service_minutes=max(1, round(plan.minutes)),
                )
                session.add(service)
                session.flush()
                assert service.id is not None
                services[plan.prefix] = service.id
                # Enough counters to keep up over about four busy hours.
                rooms = max(1, math.ceil(expected[plan.prefix] * plan.minutes / 260))
                counters[plan.prefix] = []
                for number in range(1, rooms + 1):
                    counter = Counter(clinic_id=clinic.id, name=f"{plan.name} {number}")
                    session.add(counter)
                    session.flush()
                    assert counter.id is not None
                    session.add(CounterService(counter_id=counter.id, service_id=service.id))
                    user = User(
                        username=f"staff-{clinic.id}-{counter.id}",
                        password_hash=staff_hash,
                        role=Role.staff,
                        clinic_id=clinic.id,
                    )
                    session.add(user)
                    session.flush()
                    assert user.id is not None
                    counters[plan.prefix].append(counter.id)
                    staff[counter.id] = user.id
            kiosk = Device(
                clinic_id=clinic.id,
                name="Kiosk pintu masuk",
                kind=DeviceKind.kiosk,
                key_digest=digest(f"bench-kiosk-{clinic.id}"),
            )
            session.add(kiosk)
            session.add(
                Device(
                    clinic_id=clinic.id,
                    name="TV ruang tunggu",
                    kind=DeviceKind.display,
                    key_digest=digest(f"bench-display-{clinic.id}"),
                )
            )
            session.flush()
            assert kiosk.id is not None
            setups.append(
                ClinicSetup(clinic.id, timezone, size, services, counters, staff, kiosk.id)
            )
        session.commit()
    return setups


# --- one clinic-day, simulated --------------------------------------------------------------


class SimTicket:
    """A ticket as it is being simulated; then replayed into the row the service keeps."""

    __slots__ = (
        "id", "clinic_id", "service_id", "origin_service_id", "counter_id", "visit_date",
        "number", "code", "status", "priority", "channel", "leg", "recall_count", "issued_at",
        "entered_at", "queue_key", "called_at", "started_at", "finished_at",
        "estimate_at_issue_min", "token_digest", "issued_ts", "setup", "cancel_at", "prefix",
    )  # fmt: skip
    id: int
    clinic_id: int
    service_id: int
    origin_service_id: int
    counter_id: int | None
    visit_date: date
    number: int
    code: str
    status: TicketStatus
    priority: Priority
    channel: Channel
    leg: int
    recall_count: int
    issued_at: datetime
    entered_at: datetime
    queue_key: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    estimate_at_issue_min: int | None
    token_digest: str
    issued_ts: float
    setup: ClinicSetup
    cancel_at: float | None
    prefix: str

    def __init__(self, setup: ClinicSetup, visit_date: date, prefix: str, priority: Priority,
                 channel: Channel, issued_ts: float, token_digest: str) -> None:  # fmt: skip
        self.setup = setup
        self.clinic_id = setup.id
        self.visit_date = visit_date
        self.prefix = prefix
        self.priority = priority
        self.channel = channel
        self.issued_ts = issued_ts
        self.token_digest = token_digest
        self.cancel_at: float | None = None
        self.estimate_at_issue_min: int | None = None
        self.id = 0
        self.number = 0
        self.code = ""


class SimEvent:
    """Duck-typed TicketEvent (the model costs ~150 us to build; this ~1 us)."""

    __slots__ = (
        "id", "clinic_id", "seq", "ticket_id", "type", "at", "leg", "service_id", "counter_id",
        "user_id", "device_id", "from_service_id", "to_service_id", "ts", "rank", "order",
        "ticket",
    )  # fmt: skip
    id: int
    clinic_id: int
    seq: int
    ticket_id: int
    type: EventType
    at: datetime
    leg: int
    service_id: int
    counter_id: int | None
    user_id: int | None
    device_id: int | None
    from_service_id: int | None
    to_service_id: int | None
    ts: float
    rank: int
    order: int
    ticket: SimTicket

    def __init__(self, ticket: SimTicket, ts: float, kind: EventType, order: int,
                 counter_id: int | None = None, user_id: int | None = None,
                 device_id: int | None = None,
                 to_service_id: int | None = None) -> None:  # fmt: skip
        self.ticket = ticket
        self.ts = ts
        self.type = kind
        self.order = order
        # A counter's Next completes the held ticket before it calls: endings sort first.
        self.rank = 0 if kind in _ENDS else 1
        self.counter_id = counter_id
        self.user_id = user_id
        self.device_id = device_id
        self.from_service_id: int | None = None
        self.to_service_id = to_service_id


_ENDS = {EventType.completed, EventType.transferred, EventType.no_show}


class SimLeg:
    """Duck-typed TicketLeg, begun as app.queueing.legs.begin_leg does, advanced by its
    `advance` (the service's own code)."""

    __slots__ = tuple(column.name for column in TicketLeg.__table__.columns)  # type: ignore[attr-defined]

    def __init__(self, event: SimEvent, visit_date: date, service_id: int, leg: int,
                 hour: int, target: int | None) -> None:  # fmt: skip
        self.id = 0
        self.ticket_id = event.ticket_id
        self.leg = leg
        self.clinic_id = event.clinic_id
        self.service_id = service_id
        self.visit_date = visit_date
        self.entered_hour = hour
        self.entered_at = event.at
        self.first_called_at: datetime | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.outcome: LegOutcome | None = None
        self.counter_id: int | None = None
        self.recalls = 0
        self.wait_seconds: float | None = None
        self.service_seconds: float | None = None
        self.target_wait_minutes = target


@dataclass
class Day:
    tickets: list[SimTicket] = field(default_factory=list)
    events: list[SimEvent] = field(default_factory=list)
    order: int = 0

    def add(self, ticket: SimTicket, ts: float, kind: EventType, **fields: Any) -> None:
        self.order += 1
        self.events.append(SimEvent(ticket, ts, kind, self.order, **fields))


def _local_ts(midnight: float, hhmm: str | int) -> float:
    return midnight + 60 * (hhmm if isinstance(hhmm, int) else _minutes(hhmm))


def _arrival_minute(rng: random.Random, remote: bool, close: int) -> float:
    """Local minute of arrival: a morning peak 07:30-10:00 over a flatter spread."""
    while True:
        if remote and rng.random() < 0.5:
            minute = rng.uniform(6 * 60, 8 * 60)  # a phone ticket taken before leaving home
        elif rng.random() < 0.7:
            minute = rng.gauss(8 * 60 + 35, 45)
        else:
            minute = rng.uniform(7 * 60, close)
        if (6 * 60 if remote else 7 * 60) <= minute <= close:
            return minute


def simulate_clinic_day(rng: random.Random, setup: ClinicSetup, visit_date: date, day: Day) -> None:
    zone = ZoneInfo(setup.timezone)
    midnight = datetime(visit_date.year, visit_date.month, visit_date.day, tzinfo=zone).timestamp()
    registration, closing = HOURS.get(visit_date.weekday(), HOURS[0])
    close_ts = _local_ts(midnight, closing)
    mean = TICKETS_PER_CLINIC_DAY * setup.size * WEEKDAY_LOAD[visit_date.weekday()] / 0.9833
    count = max(20, round(rng.gauss(mean, 1.5 * math.sqrt(mean))))
    arrivals: dict[str, list[tuple[float, float, int, SimTicket]]] = {p.prefix: [] for p in PLANS}
    tie = 0
    for _ in range(count):
        direct = rng.random() < 0.28
        prefix = _pick(rng, DIRECT_ENTRY) if direct else "A"
        channel = _pick(rng, DIRECT_CHANNELS if direct else DESK_CHANNELS)
        remote = channel in (Channel.phone, Channel.bpjs)
        priority = _pick(rng, PRIORITIES)
        if prefix == "D" and priority is Priority.none and rng.random() < 0.3:
            priority = Priority.pregnant
        ts = _local_ts(midnight, 0) + 60 * _arrival_minute(rng, remote, _minutes(registration))
        ts = round(ts + rng.random(), 3)
        token = hashlib.sha256(rng.randbytes(32)).hexdigest()
        ticket = SimTicket(setup, visit_date, prefix, priority, channel, ts, token)
        if rng.random() < (0.06 if remote else 0.015):
            ticket.cancel_at = ts + 60 * rng.expovariate(1 / 40)
        day.tickets.append(ticket)
        if channel is Channel.kiosk:
            actor = {"device_id": setup.kiosk}
        elif channel is Channel.staff:
            actor = {"user_id": setup.staff[setup.counters["A"][0]]}
        else:
            actor = {}
        day.add(ticket, ts, EventType.issued, to_service_id=setup.services[prefix], **actor)
        tie += 1
        key = ts - LEAD_SECONDS if priority is not Priority.none else ts
        arrivals[prefix].append((ts, key, tie, ticket))
    sweep = midnight + 86400 + rng.uniform(1, 30)  # the end-of-day sweep, every 30 s
    leftovers: list[SimTicket] = []
    for plan in PLANS:
        tie = _serve(rng, setup, plan, arrivals, close_ts, day, leftovers, tie)
    for ticket in leftovers:
        if ticket.cancel_at is not None and ticket.cancel_at < sweep:
            day.add(ticket, ticket.cancel_at, EventType.cancelled, **_canceller(ticket))
    for ticket in sorted(leftovers, key=lambda t: t.issued_ts):
        if ticket.cancel_at is None or ticket.cancel_at >= sweep:
            day.add(ticket, sweep, EventType.expired)


def _canceller(ticket: SimTicket) -> dict[str, int]:
    """A patient cancels from the phone (no actor); at the kiosk, staff cancel for them."""
    if ticket.channel in (Channel.phone, Channel.bpjs):
        return {}
    setup = ticket.setup
    return {"user_id": setup.staff[setup.counters["A"][0]]}


def _serve(
    rng: random.Random,
    setup: ClinicSetup,
    plan: ServicePlan,
    arrivals: dict[str, list[tuple[float, float, int, SimTicket]]],
    close_ts: float,
    day: Day,
    leftovers: list[SimTicket],
    tie: int,
) -> int:
    """Multi-counter queue in queue_key order (priority rule), calls until closing."""
    pending = arrivals[plan.prefix]
    heapq.heapify(pending)
    waiting: list[tuple[float, int, SimTicket]] = []
    counters = setup.counters[plan.prefix]
    # Counters start calling 6.5 h before they stop: 07:30 Monday-Thursday, but 05:00 on
    # Friday and 06:00 on Saturday, so early phone tickets are called before 07:30 on those
    # days (a quirk of the recorded data set, kept so the seed reproduces it).
    opening = close_ts - 6.5 * 3600
    free = [(opening + rng.uniform(0, 600), counter) for counter in counters]
    heapq.heapify(free)
    requeued: set[int] = set()
    sigma = 0.55
    mu = math.log(plan.minutes * 60) - sigma * sigma / 2
    rooms = len(counters)
    while pending or waiting:
        now, counter = heapq.heappop(free)
        if not waiting and pending[0][0] > now:
            now = pending[0][0]  # the counter sat idle until someone came
        while pending and pending[0][0] <= now:
            _, key, order, ticket = heapq.heappop(pending)
            if ticket.estimate_at_issue_min is None:  # what the kiosk showed, roughly
                ticket.estimate_at_issue_min = math.ceil(len(waiting) * plan.minutes / rooms)
            heapq.heappush(waiting, (key, order, ticket))
        if now >= close_ts:
            break
        _, order, ticket = heapq.heappop(waiting)
        if ticket.cancel_at is not None and ticket.cancel_at <= now:
            day.add(ticket, ticket.cancel_at, EventType.cancelled, **_canceller(ticket))
            heapq.heappush(free, (now, counter))
            continue
        ticket.cancel_at = None  # called in time: no longer leaving
        user = setup.staff[counter]
        day.add(ticket, now, EventType.called, counter_id=counter, user_id=user)
        if id(ticket) not in requeued and rng.random() < plan.no_show_share:
            at = now
            for _ in range(rng.choice((0, 1, 1, 2, 2))):
                at += rng.uniform(45, 90)
                day.add(ticket, at, EventType.recalled, counter_id=counter, user_id=user)
            at += rng.uniform(60, 120)
            day.add(ticket, at, EventType.no_show, counter_id=counter, user_id=user)
            heapq.heappush(free, (at, counter))
            back = at + 60 * rng.uniform(5, 90)
            if rng.random() < 0.35 and back < close_ts:
                requeued.add(id(ticket))
                day.add(ticket, back, EventType.requeued, user_id=user)
                tie += 1
                key = back - LEAD_SECONDS if ticket.priority is not Priority.none else back
                heapq.heappush(pending, (back, key, tie, ticket))
            else:
                leftovers.append(ticket)
            continue
        begin = now + rng.uniform(10, 40)
        if rng.random() < 0.06:
            at = now + rng.uniform(30, 90)
            day.add(ticket, at, EventType.recalled, counter_id=counter, user_id=user)
            begin = at + rng.uniform(10, 40)
        if rng.random() < plan.start_share:
            day.add(ticket, begin, EventType.started, counter_id=counter, user_id=user)
        end = begin + rng.lognormvariate(mu, sigma)
        target = _pick(rng, plan.then)
        if target:
            day.add(
                ticket,
                end,
                EventType.transferred,
                counter_id=counter,
                user_id=user,
                to_service_id=setup.services[target],
            )
            tie += 1
            key = end - LEAD_SECONDS if ticket.priority is not Priority.none else end
            arrivals[target].append((end, key, tie, ticket))
        else:
            day.add(ticket, end, EventType.completed, counter_id=counter, user_id=user)
        heapq.heappush(free, (end, counter))
    for _, _, _, ticket in pending:
        leftovers.append(ticket)
    for _, _, ticket in waiting:
        leftovers.append(ticket)
    return tie


# --- the day replayed as the service writes it ----------------------------------------------

ACTIONS = {
    EventType.called: Action.call,
    EventType.recalled: Action.recall,
    EventType.started: Action.start,
    EventType.completed: Action.complete,
    EventType.no_show: Action.no_show,
    EventType.requeued: Action.requeue,
    EventType.transferred: Action.transfer,
    EventType.cancelled: Action.cancel,
    EventType.expired: Action.expire,
}


@dataclass
class Ids:
    ticket: int = 0
    event: int = 0
    leg: int = 0
    seq: dict[int, int] = field(default_factory=dict)
    numbers: dict[tuple[int, date], int] = field(default_factory=dict)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def replay(
    day: Day, ids: Ids, targets: dict[int, int | None]
) -> tuple[list[SimTicket], list[SimEvent], list[SimLeg]]:
    """Ids, numbers and seqs in the order the service gives them; every event applied to its
    ticket as app/queueing/actions.py does (state machine checked) and to its leg by
    app.queueing.legs.advance."""
    tickets = sorted(day.tickets, key=lambda t: t.issued_ts)
    for ticket in tickets:
        ids.ticket += 1
        ticket.id = ids.ticket
        origin = ticket.setup.services[ticket.prefix]
        number = ids.numbers.get((origin, ticket.visit_date), 0) + 1
        ids.numbers[(origin, ticket.visit_date)] = number
        ticket.number, ticket.code = number, ticket_code(ticket.prefix, number)
    events = sorted(day.events, key=lambda e: (e.ts, e.rank, e.order))
    legs: dict[tuple[int, int], SimLeg] = {}
    made: list[SimLeg] = []

    def begin(event: SimEvent, ticket: SimTicket, service_id: int, number: int) -> None:
        local = to_local(event.at, ticket.setup.timezone)
        assert local is not None
        leg = SimLeg(event, ticket.visit_date, service_id, number, local.hour, targets[service_id])
        ids.leg += 1
        leg.id = ids.leg
        legs[(ticket.id, number)] = leg
        made.append(leg)

    for event in events:
        ticket = event.ticket
        at = event.at = _utc(event.ts)
        ids.event += 1
        event.id = ids.event
        event.clinic_id = ticket.clinic_id
        event.seq = ids.seq[ticket.clinic_id] = ids.seq.get(ticket.clinic_id, 0) + 1
        event.ticket_id = ticket.id
        kind = event.type
        if kind is EventType.issued:
            ticket.service_id = ticket.origin_service_id = cast(int, event.to_service_id)
            ticket.status, ticket.leg, ticket.recall_count = TicketStatus.waiting, 1, 0
            ticket.counter_id = ticket.called_at = ticket.started_at = ticket.finished_at = None
            ticket.issued_at = ticket.entered_at = at
            ticket.queue_key = queue_key(at, ticket.priority, LEAD_SECONDS // 60)
            event.leg, event.service_id = 1, ticket.service_id
            begin(event, ticket, ticket.service_id, 1)
            continue
        if kind is EventType.expired:
            event.counter_id = ticket.counter_id  # the counter holding it, if any
        event.leg, event.service_id = ticket.leg, ticket.service_id
        ticket.status = step(ticket.status, ACTIONS[kind]).status
        if kind is EventType.called:
            ticket.counter_id = event.counter_id
            ticket.called_at = ticket.called_at or at
        elif kind is EventType.recalled:
            ticket.recall_count += 1
        elif kind is EventType.started:
            ticket.started_at = at
        elif kind in (EventType.completed, EventType.cancelled, EventType.expired):
            ticket.finished_at = at
        elif kind is EventType.requeued:
            ticket.counter_id = None
            ticket.queue_key = queue_key(at, ticket.priority, LEAD_SECONDS // 60)
        advance(cast(TicketLeg, legs[(ticket.id, event.leg)]), cast(TicketEvent, event))
        if kind is EventType.transferred:
            event.from_service_id = ticket.service_id
            ticket.service_id = cast(int, event.to_service_id)
            ticket.leg += 1
            ticket.recall_count = 0
            ticket.counter_id = None
            ticket.entered_at = at
            ticket.queue_key = queue_key(at, ticket.priority, LEAD_SECONDS // 60)
            ticket.called_at = ticket.started_at = None
            begin(event, ticket, ticket.service_id, ticket.leg)
    return tickets, events, made


def check_against_derive_legs(
    events: list[SimEvent],
    legs: list[SimLeg],
    setups: list[ClinicSetup],
    targets: dict[int, int | None],
) -> None:
    """The legs written equal what app.queueing.legs.derive_legs makes from the same log
    with the real models (one clinic-day; the models are too slow for millions)."""
    clinic = setups[0]
    zones = {setup.id: setup.timezone for setup in setups}
    sample = [
        (
            TicketEvent(**{name: getattr(e, name) for name in _columns(TicketEvent)}),
            e.ticket.visit_date,
        )
        for e in events
        if e.clinic_id == clinic.id
    ]
    derived = derive_legs(sample, timezone_of=zones.__getitem__, target_of=targets.get)
    names = [name for name in _columns(TicketLeg) if name != "id"]
    ours = sorted(
        (tuple(getattr(leg, n) for n in names) for leg in legs if leg.clinic_id == clinic.id),
        key=lambda row: (row[0], row[1]),
    )
    theirs = sorted(
        (tuple(getattr(leg, n) for n in names) for leg in derived), key=lambda r: (r[0], r[1])
    )
    assert ours == theirs, "legs differ from derive_legs"
    print(f"  legs checked equal to derive_legs over one clinic-day ({len(ours)} legs)")


# --- bulk loading, values bound by the models' own column types -----------------------------


def _columns(model: Any) -> list[str]:
    return [column.name for column in model.__table__.columns]


def _sqlite_datetime(value: datetime | None) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M:%S.%f}"


def _enum_value(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _iso(value: date) -> str:
    return value.isoformat()


class Loader:
    """Rows bound by each column's type for this dialect (UTCDateTime, StrEnumType, …), as
    the ORM would bind them, then written in bulk."""

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.url = url
        self.engine = make_engine(url)
        self.dialect: Dialect = self.engine.dialect
        self.seconds = 0.0
        self.checked: set[Any] = set()

    def processors(self, model: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        table = model.__table__
        return [
            (index, processor)
            for index, column in enumerate(table.columns)
            if (processor := column.type.dialect_impl(self.dialect).bind_processor(self.dialect))
        ]

    def fast(self, model: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        """The same conversions without the generic machinery (UTC datetimes only), checked
        equal to the column types' own processors on the first day."""
        sqlite = self.dialect.name == "sqlite"
        found: list[tuple[int, Callable[[Any], Any]]] = []
        for index, column in enumerate(model.__table__.columns):
            kind = column.type
            if isinstance(kind, UTCDateTime) and sqlite:
                found.append((index, _sqlite_datetime))
            elif isinstance(kind, StrEnumType):
                found.append((index, _enum_value))
            elif isinstance(kind, SaDate) and sqlite:
                found.append((index, _iso))
        return found

    def bound(self, model: Any, objects: Sequence[Any]) -> list[list[Any]]:
        names = _columns(model)
        get = operator.attrgetter(*names)
        checked = model in self.checked
        converters = self.fast(model) if checked else self.processors(model)
        rows = []
        for obj in objects:
            row = list(get(obj))
            for index, convert in converters:
                row[index] = convert(row[index])
            rows.append(row)
        if not checked:
            for obj, row in zip(objects, rows, strict=True):
                quick = list(get(obj))
                for index, convert in self.fast(model):
                    quick[index] = convert(quick[index])
                assert quick == row, (model, quick, row)
            self.checked.add(model)
        return rows

    def write(self, batches: Sequence[tuple[Any, Sequence[Any]]]) -> None:
        began = time.perf_counter()
        self._write(
            [
                (model.__tablename__, _columns(model), self.bound(model, objs))
                for model, objs in batches
            ]
        )
        self.seconds += time.perf_counter() - began

    def _write(self, tables: list[tuple[str, list[str], list[list[Any]]]]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class SQLiteLoader(Loader):
    def __init__(self, label: str, url: str) -> None:
        super().__init__(label, url)
        path = make_url(url).database
        assert path
        self.connection = sqlite3.connect(path, isolation_level=None)
        # Loading only: the service itself runs with synchronous=FULL (app/db.py).
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-400000")

    def _write(self, tables: list[tuple[str, list[str], list[list[Any]]]]) -> None:
        self.connection.execute("BEGIN")
        for name, columns, rows in tables:
            marks = ", ".join("?" for _ in columns)
            self.connection.executemany(
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", rows
            )
        self.connection.execute("COMMIT")

    def finish(self) -> None:
        began = time.perf_counter()
        self.connection.execute("ANALYZE")
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.close()
        print(f"  {self.label}: ANALYZE {time.perf_counter() - began:.0f} s")


class PostgresLoader(Loader):
    def __init__(self, label: str, url: str) -> None:
        super().__init__(label, url)
        parsed = make_url(url)
        self.connection = psycopg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username,
            password=parsed.password, dbname=parsed.database,
        )  # fmt: skip
        # Loading only: foreign keys are right by construction; checking 15 million rows one
        # by one (RI triggers) would take most of an hour. Needs a superuser.
        self.connection.execute("SET session_replication_role = replica")

    def _write(self, tables: list[tuple[str, list[str], list[list[Any]]]]) -> None:
        with self.connection.cursor() as cursor:
            for name, columns, rows in tables:
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        self.connection.commit()

    def finish(self) -> None:
        began = time.perf_counter()
        for name in ("ticket", "ticket_event", "ticket_leg"):
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            )
        self.connection.commit()
        self.connection.autocommit = True
        # What autovacuum does to an insert-only table over a year (PG 13+): visibility map
        # for index-only scans, and the planner's statistics.
        self.connection.execute("VACUUM (ANALYZE)")
        self.connection.close()
        print(f"  {self.label}: VACUUM (ANALYZE) {time.perf_counter() - began:.0f} s")


# --- generating, once per database (or reused with --keep) ----------------------------------


@dataclass
class Target:
    label: str
    url: str
    meta: Path


def generate(targets: list[Target], clinics: int, days: list[date], seed: int) -> None:
    loaders: list[Loader] = []
    setups: list[ClinicSetup] = []
    for target in targets:
        target.meta.unlink(missing_ok=True)
        loader: Loader = (
            SQLiteLoader(target.label, target.url)
            if target.url.startswith("sqlite")
            else PostgresLoader(target.label, target.url)
        )
        upgrade_to_head(loader.engine)
        built = build_city(loader.engine, clinics, random.Random(seed))
        assert not setups or [s.services for s in built] == [s.services for s in setups]
        setups = built
        loaders.append(loader)
    targets_of: dict[int, int | None] = {}
    with Session(loaders[0].engine) as session:
        for service in session.exec(select(Service)):
            assert service.id is not None
            targets_of[service.id] = service.target_wait_minutes
    rng = random.Random(seed + 1)
    ids = Ids()
    began = time.perf_counter()
    simulated = 0.0
    totals = [0, 0, 0]
    for number, visit_date in enumerate(days, start=1):
        start = time.perf_counter()
        day = Day()
        for setup in setups:
            simulate_clinic_day(rng, setup, visit_date, day)
        tickets, events, legs = replay(day, ids, targets_of)
        simulated += time.perf_counter() - start
        if number == 1:
            check_against_derive_legs(events, legs, setups, targets_of)
        for loader in loaders:
            loader.write([(Ticket, tickets), (TicketEvent, events), (TicketLeg, legs)])
        totals = [totals[0] + len(tickets), totals[1] + len(events), totals[2] + len(legs)]
        if number % 25 == 0 or number == len(days):
            elapsed = time.perf_counter() - began
            writes = ", ".join(f"{x.label} {x.seconds:.0f} s" for x in loaders)
            print(
                f"  day {number}/{len(days)} {visit_date}: {totals[0]:,} tickets, "
                f"{totals[1]:,} events, {totals[2]:,} legs; {elapsed:.0f} s "
                f"(simulate {simulated:.0f} s; write {writes})",
                flush=True,
            )
    sequences = [
        DailySequence(service_id=service_id, visit_date=visit_date, last_number=last)
        for (service_id, visit_date), last in ids.numbers.items()
    ]
    for loader, target in zip(loaders, targets, strict=True):
        loader.write([(DailySequence, sequences)])
        with open_session(loader.engine, write=True) as session:
            for clinic in session.exec(select(Clinic)):
                clinic.event_seq = ids.seq.get(cast(int, clinic.id), 0)
                session.add(clinic)
            session.commit()
        build_rollups(loader.label, loader.engine)
        loader.finish()
        loader.engine.dispose()
        target.meta.write_text(
            json.dumps({"tickets": totals[0], "events": totals[1], "legs": totals[2]})
        )
    print(f"  generated in {time.perf_counter() - began:.0f} s", flush=True)


def build_rollups(label: str, engine: Engine) -> None:
    """The leg rollups, by the code the migration that introduced them runs."""
    began = time.perf_counter()
    with open_session(engine, write=True) as session:
        rows = rebuild_rollups(session)
        session.commit()
    print(f"  {label}: {rows:,} leg rollup rows in {time.perf_counter() - began:.0f} s")


def upgrade_kept(target: Target) -> None:
    """Data kept from an older schema: run the service's own migrations on it (the upgrade a
    deployment gets), then refresh the planner's statistics as autovacuum would."""
    engine = make_engine(target.url)
    with engine.connect() as connection:
        before = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    began = time.perf_counter()
    upgrade_to_head(engine)
    with engine.connect() as connection:
        after = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if before != after:
        print(
            f"  {target.label}: migrated {before} -> {after} in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


# --- timing ---------------------------------------------------------------------------------


def timed(run: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """The first (cold) run, then `runs` more."""
    began = time.perf_counter()
    run()
    first = time.perf_counter() - began
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return first, samples


def line(label: str, first: float, samples: list[float], note: str = "") -> None:
    print(
        f"  {label:<44}{first * 1000:>9.0f}{statistics.median(samples) * 1000:>9.0f}"
        f"{max(samples) * 1000:>9.0f}  {note}",
        flush=True,
    )


def capture_statements(engine: Engine, run: Callable[[], object]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        run()
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    return seen


def explain(engine: Engine, run: Callable[[], object]) -> None:
    """The plan of every statement the report runs."""
    postgres = engine.dialect.name == "postgresql"
    for statement, parameters in capture_statements(engine, run):
        if "leg_rollup" not in statement:
            continue
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        with engine.connect() as connection:
            cursor = connection.exec_driver_sql(prefix + statement, parameters)
            print("    " + " ".join(statement.split())[:400])
            for row in cursor:
                print("      " + " | ".join(str(part) for part in row))


class RssSampler:
    """The server's VmRSS every 20 ms while something runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.02)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _hwm_mb(server: Server) -> float:
    with open(f"/proc/{server.process.pid}/status") as status:
        for entry in status:
            if entry.startswith("VmHWM:"):
                return int(entry.split()[1]) / 1024
    return 0.0


def export(client: httpx.Client, server: Server, params: dict[str, str]) -> None:
    before = server.rss_mb()
    size = rows = 0
    first_byte = 0.0
    with RssSampler(server) as sampler:
        began = time.perf_counter()
        with client.stream("GET", "/api/v1/reports/ticket-log", params=params) as response:
            assert response.status_code == 200, response.read()
            for chunk in response.iter_bytes():
                if not first_byte:
                    first_byte = time.perf_counter() - began
                size += len(chunk)
                rows += chunk.count(b"\n")
        total = time.perf_counter() - began
    rows -= 1  # the header
    print(
        f"  ticket-log {params['date_from']}..{params['date_to']}: {rows:,} rows, "
        f"{size / 2**20:,.0f} MiB; first byte {first_byte * 1000:.0f} ms, total {total:.1f} s, "
        f"{rows / total:,.0f} rows/s; server RSS {before:.0f} MB before, peak "
        f"{sampler.peak:.0f} MB while streaming (VmHWM {_hwm_mb(server):.0f} MB)",
        flush=True,
    )


def _periods(days: list[date]) -> tuple[date, date, date]:
    """The month with the most working days (a whole calendar month), and its first Monday."""
    months = {(d.year, d.month) for d in days}
    year, month = max(months, key=lambda m: (sum(1 for d in days if (d.year, d.month) == m), m))
    month_days = [d for d in days if (d.year, d.month) == (year, month)]
    month_from, month_to = date(year, month, 1), max(month_days)
    if month < 12:
        month_to = date(year, month + 1, 1) - timedelta(days=1)
    busy_day = next((d for d in month_days if d.weekday() == 0), month_days[0])
    return month_from, month_to, busy_day


def _ranked(ordered: Sequence[float], fraction: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def by_clinic_from_legs(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """The report by clinic straight from every leg of the period, as it ran before rollups:
    the reference the rollups must equal at city scale, and the time they save."""
    leg = TicketLeg
    wait, target = col(leg.wait_seconds), col(leg.target_wait_minutes)
    targeted = and_(wait.is_not(None), target.is_not(None))

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    postgres = session.get_bind().dialect.name == "postgresql"
    figures = [
        func.count(),
        count(col(leg.outcome).in_((LegOutcome.done, LegOutcome.transferred))),
        count(col(leg.outcome) == LegOutcome.no_show),
        count(col(leg.outcome) == LegOutcome.cancelled),
        func.avg(wait),
        func.max(wait),
        func.avg(col(leg.service_seconds)),
        count(and_(targeted, wait <= target * 60)),
        count(targeted),
    ]
    if postgres:
        figures += [func.percentile_cont(p).within_group(wait) for p in (0.5, 0.9)]
    period = [col(leg.visit_date) >= query.date_from, col(leg.visit_date) <= query.date_to]
    statement = (
        select(col(leg.clinic_id), col(Clinic.name), *figures)
        .join(Clinic, col(Clinic.id) == col(leg.clinic_id))
        .where(*period)
        .group_by(col(leg.clinic_id), col(Clinic.name))
        .order_by(col(leg.clinic_id))
    )
    found = session.execute(statement).all()
    ranks: dict[int, tuple[float | None, float | None]] = {}
    if not postgres:
        waits = session.execute(
            select(col(leg.clinic_id), wait)
            .where(*period, wait.is_not(None))
            .order_by(col(leg.clinic_id), wait)
        )
        for clinic_id, rows in itertools.groupby(waits, key=operator.itemgetter(0)):
            ordered = [row[1] for row in rows]
            ranks[clinic_id] = (_ranked(ordered, 0.5), _ranked(ordered, 0.9))
    report = []
    for row in found:
        clinic_id, name, issued, served, no_show, cancelled, mean, longest, service = row[:9]
        within, targeted_n = row[9:11]
        median, p90 = row[11:13] if postgres else ranks.get(clinic_id, (None, None))
        report.append(
            {
                "clinic_id": clinic_id,
                "clinic_name": name,
                "issued": issued,
                "served": served,
                "no_show": no_show,
                "cancelled": cancelled,
                "wait_mean_min": minutes(mean),
                "wait_median_min": minutes(median),
                "wait_p90_min": minutes(p90),
                "wait_max_min": minutes(longest),
                "service_mean_min": minutes(service),
                "within_target_pct": share_pct(within, targeted_n),
            }
        )
    return report


def measure(target: Target, days: list[date], runs: int, show_plans: bool) -> None:
    engine = make_engine(target.url)
    month_from, month_to, busy_day = _periods(days)
    with Session(engine) as session:
        clinic_id = cast(int, session.exec(select(col(Clinic.id)).order_by(col(Clinic.id))).first())
        month_legs = session.execute(
            text("SELECT count(*) FROM ticket_leg WHERE visit_date BETWEEN :a AND :b"),
            {"a": month_from, "b": month_to},
        ).scalar_one()
    by_clinic = ReportQuery(month_from, month_to, None, None, (GroupBy.clinic,))
    by_hour = ReportQuery(busy_day, busy_day, (clinic_id,), None, (GroupBy.hour,))
    year_by_clinic = ReportQuery(days[0], days[-1], None, None, (GroupBy.clinic,))

    def domain(query: ReportQuery) -> Callable[[], object]:
        def run() -> object:
            with open_session(engine, write=False) as session:
                return wait_times(session, query)

        return run

    print(f"\n{target.label}: {json.loads(target.meta.read_text())}")
    print(
        f"  month {month_from}..{month_to}: {month_legs:,} legs; day {busy_day} clinic {clinic_id}"
    )
    print(f"  {'ms':<44}{'first':>9}{'median':>9}{'max':>9}")
    first, samples = timed(domain(by_clinic), runs)
    line("month by clinic, wait_times() (domain)", first, samples)
    rollups = statistics.median(samples)

    def from_legs() -> list[dict[str, Any]]:
        with open_session(engine, write=False) as session:
            return by_clinic_from_legs(session, by_clinic)

    first, samples = timed(from_legs, runs)
    line("month by clinic from every leg (before)", first, samples, "the reference")
    with open_session(engine, write=False) as session:
        assert wait_times(session, by_clinic) == from_legs(), "rollups differ from the legs"
    print(
        f"  the same rows from the rollups as from every leg, "
        f"{statistics.median(samples) / rollups:.1f}x faster",
        flush=True,
    )
    first, samples = timed(domain(by_hour), runs)
    line("day by hour, one clinic, wait_times()", first, samples)
    first, samples = timed(domain(year_by_clinic), min(runs, 3))
    line("the whole year by clinic, wait_times()", first, samples, "no target; for scale")
    if show_plans:
        print("  plans, month by clinic:")
        explain(engine, domain(by_clinic))
    engine.dispose()

    server = Server(target.url)
    try:
        with admin_client(server, timeout=600) as client:

            def http(params: dict[str, str], expect: int) -> Callable[[], object]:
                def run() -> object:
                    response = client.get("/api/v1/reports/wait-times", params=params)
                    assert response.status_code == 200, response.text
                    assert len(response.json()["rows"]) == expect
                    return response

                return run

            period = {"date_from": str(month_from), "date_to": str(month_to), "group_by": "clinic"}
            clinics = len(json.loads(client.get("/api/v1/clinics").text))
            first, samples = timed(http(period, clinics), runs)
            line("month by clinic, GET /reports/wait-times", first, samples, "HTTP, the target")
            day = {"date_from": str(busy_day), "date_to": str(busy_day), "group_by": "hour",
                   "clinic_id": str(clinic_id)}  # fmt: skip
            rows = len(client.get("/api/v1/reports/wait-times", params=day).json()["rows"])
            first, samples = timed(http(day, rows), runs)
            line("day by hour, one clinic, GET", first, samples, "HTTP")
    finally:
        server.stop()


@contextmanager
def admin_client(server: Server, timeout: float) -> Iterator[httpx.Client]:
    """A client of the server signed in as the bench's admin (the health office)."""
    with httpx.Client(base_url=server.base, timeout=timeout) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def measure_exports(target: Target, days: list[date]) -> None:
    """On a fresh server, so its memory reflects only the exports."""
    month_from, month_to, _ = _periods(days)
    print(f"\n{target.label}: ticket-log exports")
    server = Server(target.url)
    try:
        with admin_client(server, timeout=3600) as client:
            export(client, server, {"date_from": str(month_from), "date_to": str(month_to)})
            export(client, server, {"date_from": str(days[0]), "date_to": str(days[-1])})
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clinics", type=int, default=30)
    parser.add_argument("--days", type=int, default=0, help="working days of 2025 (0: all)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keep", action="store_true", help="reuse databases generated before")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--runs", type=int, default=7, help="timed runs after the first")
    parser.add_argument("--plans", action="store_true", help="print the report's query plans")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    days = working_days(args.days)
    name = f"city_{args.clinics}c_{len(days)}d_s{args.seed}"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    targets = []
    if args.db in ("sqlite", "both"):
        path = BENCH_DIR / f"{name}.db"
        targets.append(Target("sqlite", f"sqlite:///{path}", BENCH_DIR / f"{name}.sqlite.json"))
    if args.db in ("postgresql", "both"):
        database = f"antrean_bench_reports_{name}"
        url = make_url(args.postgres).set(database=database).render_as_string(False)
        targets.append(Target("postgresql", url, BENCH_DIR / f"{name}.postgresql.json"))
    fresh = [t for t in targets if not (args.keep and t.meta.exists())]
    if fresh:
        print(
            f"generating {args.clinics} clinics x {len(days)} days ({days[0]}..{days[-1]}), "
            f"seed {args.seed}, into {', '.join(t.label for t in fresh)}",
            flush=True,
        )
        for target in fresh:
            _recreate(target, args.postgres)
        generate(fresh, args.clinics, days, args.seed)
    for target in targets:
        upgrade_kept(target)
    for target in targets:
        measure(target, days, args.runs, args.plans)
    for target in targets:
        measure_exports(target, days)


def _recreate(target: Target, server_url: str) -> None:
    target.meta.unlink(missing_ok=True)
    if target.label == "sqlite":
        path = Path(cast(str, make_url(target.url).database))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server = make_engine(server_url, isolation_level="AUTOCOMMIT")
    database = make_url(target.url).database
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    server.dispose()


if __name__ == "__main__":
    main()
