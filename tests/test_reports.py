"""Reports: every figure, recomputed here from the raw event log, agrees with the API.

The key test runs a seeded, realistic workload (two clinics in two timezones, four local days,
priorities, recalls, no-shows with and without requeue, transfers A -> B -> D, completions with
and without a start, cancels, tickets expired by the next day's first call, a target changed
mid-period) and then derives the legs from the `ticket_event` rows alone, following the
contract's definitions (and docs/reports.md where it is silent), without any of the app's leg
or report code. From those legs it computes every figure of every grouping, and every
ticket-log row, and compares them with the API exactly.

Then: the CSV and XLSX renderings, who may read reports, bad input, and that the ticket log is
streamed.
"""

import csv
import io
import math
import random
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from app.config import Settings
from app.models import Channel, Priority, Ticket, TicketEvent, TicketLeg, TicketStatus
from app.models.leg import LegOutcome
from app.reports.query import ReportQuery
from app.reports.ticket_log import ticket_log_csv
from tests.clock import FakeClock
from tests.world import Headers, Json, World

API = "/api/v1"
SEED = 20261123
FIRST_DAY = date(2026, 11, 23)  # the FakeClock's first local day (08:00 WITA)
WITA = ZoneInfo("Asia/Makassar")

# The contract: a row holds the group keys, then these figures, in this order.
FIGURES = [
    "issued",
    "served",
    "no_show",
    "cancelled",
    "wait_mean_min",
    "wait_median_min",
    "wait_p90_min",
    "wait_max_min",
    "service_mean_min",
    "within_target_pct",
]
COUNT_FIGURES = FIGURES[:4]
GROUP_KEYS = {
    "day": ["date"],
    "hour": ["hour"],
    "service": ["service_id", "service_name"],
    "clinic": ["clinic_id", "clinic_name"],
    "counter": ["counter_id", "counter_name"],
}
GROUPINGS = [
    "day",
    "hour",
    "service",
    "clinic",
    "counter",
    "clinic,day",
    "service,hour",
    "counter,day",
]
# The contract: the ticket log has at least these columns.
LOG_COLUMNS = [
    "ticket_id",
    "clinic_id",
    "clinic_name",
    "visit_date",
    "code",
    "priority",
    "channel",
    "leg",
    "service_id",
    "service_name",
    "entered_at",
    "called_at",
    "started_at",
    "ended_at",
    "outcome",
    "counter_name",
    "recalls",
    "wait_min",
    "service_min",
    "estimate_at_issue_min",
]
UTC_COLUMNS = ["entered_at_utc", "called_at_utc", "started_at_utc", "ended_at_utc"]
# Beyond the contract's list, the log also has these (the same times in UTC, the counter's id).
MORE_LOG_COLUMNS = ["counter_id", *UTC_COLUMNS]
SERVED = ("done", "transferred")

# The counters of each clinic and the service each one calls; where a transfer goes next.
COUNTER_SERVICE = {
    "Loket 1": "A",
    "Loket 2": "A",
    "Ruang Umum": "B",
    "Ruang Gigi": "C",
    "Ruang Lab": "D",
}
TRANSFER_TO = {"A": "B", "B": "D"}
PRIORITIES = ["none", "elderly", "pregnant", "disabled", "child"]
STEP_SECONDS = 300  # between two things happening, on average (each is a request: keep few)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As in conftest, with the midnight sweep out of the way: here the first call-next of a
    clinic's day expires the day before (and the test checks the expiries' times)."""
    return settings.model_copy(update={"sweep_seconds": 3600})


# --- the workload ------------------------------------------------------------------------------


@dataclass
class Taken:
    """A ticket as the test saw it: its creation answer and the status the test expects."""

    world: World
    created: Json
    prefix: str
    status: str = "waiting"

    @property
    def id(self) -> int:
        ticket_id: int = self.created["id"]
        return ticket_id

    @property
    def visit_date(self) -> date:
        return date.fromisoformat(self.created["visit_date"])


@dataclass
class Workload:
    """Drives clinics through the API with a seeded random mix of everything staff and patients
    do, keeping its own model of every ticket so each request's answer can be asserted."""

    worlds: list[World]
    clock: FakeClock
    rng: random.Random
    tickets: dict[int, Taken] = field(default_factory=dict)
    held: dict[tuple[int, str], int] = field(default_factory=dict)  # (clinic, counter) -> ticket
    # When each clinic's local day had its first call (which expires the days before).
    first_calls: dict[tuple[int, date], datetime] = field(default_factory=dict)
    # Each service's target wait over time: (since, minutes).
    targets: dict[int, list[tuple[datetime, int | None]]] = field(default_factory=dict)
    phone_tickets_left: int = 4  # the phone rate limit (5/minute, real time) is never reached
    day: date = FIRST_DAY

    def __post_init__(self) -> None:
        for world in self.worlds:
            world.add_counter("Ruang Lab", "D")
            for service in world.services.values():
                self.targets[service["id"]] = [
                    (datetime.min.replace(tzinfo=UTC), service["target_wait_minutes"])
                ]

    def today(self, world: World) -> date:
        return self.clock.now.astimezone(ZoneInfo(world.clinic["timezone"])).date()

    def of(self, world: World, *statuses: str, prefix: str | None = None) -> list[Taken]:
        today = self.today(world)
        return [
            taken
            for taken in self.tickets.values()
            if taken.world is world
            and taken.visit_date == today
            and taken.status in statuses
            and (prefix is None or taken.prefix == prefix)
        ]

    def ok(self, response: Response) -> Json:
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    # What people do.

    def take(self, world: World, prefix: str = "A") -> None:
        today = self.today(world)
        quota_used = sum(
            1
            for taken in self.tickets.values()
            if taken.world is world
            and taken.visit_date == today
            and taken.created["code"][0] == "C"
        )
        if prefix == "A" and quota_used < 3 and self.rng.random() < 0.2:  # Poli Gigi: quota 3
            prefix = "C"
        priority = self.rng.choices(PRIORITIES, weights=[70, 10, 8, 6, 6])[0]
        headers = world.kiosk
        roll = self.rng.random()
        if roll < 0.03 and self.phone_tickets_left:
            headers, self.phone_tickets_left = {}, self.phone_tickets_left - 1
        elif roll < 0.15:
            headers = world.staff
        created = world.take(prefix, priority, headers=headers)
        assert created["visit_date"] == today.isoformat()
        self.tickets[created["id"]] = Taken(world, created, prefix)

    def call(self, world: World, counter: str) -> None:
        prefix = COUNTER_SERVICE[counter]
        waiting = {taken.id for taken in self.of(world, "waiting", prefix=prefix)}
        before = self.clock.now
        response = world.call(counter)
        key = (world.clinic_id, today := self.today(world))
        if key not in self.first_calls:
            self.first_calls[key] = before
            self.expire_before(world, today)
        if not waiting:
            assert response.status_code == 204, response.text
            return
        called = self.ok(response)
        assert called["id"] in waiting
        previous = self.held.pop((world.clinic_id, counter), None)
        if previous is not None:  # call-next completes the ticket the counter held
            self.tickets[previous].status = "done"
        self.tickets[called["id"]].status = "called"
        self.held[(world.clinic_id, counter)] = called["id"]

    def expire_before(self, world: World, today: date) -> None:
        for taken in self.tickets.values():
            if taken.world is world and taken.visit_date < today:
                if taken.status in ("waiting", "called", "serving", "no_show"):
                    taken.status = "expired"
        for key in [key for key in self.held if key[0] == world.clinic_id]:
            del self.held[key]

    def act_on_held(self, world: World) -> None:
        held = sorted(
            (counter, ticket)
            for (clinic, counter), ticket in self.held.items()
            if clinic == world.clinic_id
        )
        if not held:
            return
        counter, ticket_id = self.rng.choice(held)
        taken = self.tickets[ticket_id]
        if taken.status == "called":
            actions = ["recall", "start", "no-show", "complete", "transfer"]
            weights = [15, 30, 17, 15, 23]
        else:
            actions, weights = ["complete", "transfer"], [60, 40]
        action = self.rng.choices(actions, weights)[0]
        if action == "transfer" and taken.prefix not in TRANSFER_TO:
            action = "complete"
        self.perform(taken, action)

    def perform(self, taken: Taken, action: str) -> None:
        """A staff action on a ticket, checked against (and kept in) the model."""
        world = taken.world
        if action == "transfer":
            to = world.services[TRANSFER_TO[taken.prefix]]["id"]
            body = self.ok(world.act(taken.created, action, service_id=to))
            assert (body["status"], body["service_id"]) == ("waiting", to)
            taken.prefix, taken.status = TRANSFER_TO[taken.prefix], "waiting"
        else:
            body = self.ok(world.act(taken.created, action))
            taken.status = {
                "recall": "called",
                "start": "serving",
                "no-show": "no_show",
                "requeue": "waiting",
                "complete": "done",
            }[action]
            assert body["status"] == taken.status
        if taken.status not in ("called", "serving"):
            for key in [key for key, held in self.held.items() if held == taken.id]:
                del self.held[key]

    def requeue(self, world: World) -> None:
        no_shows = self.of(world, "no_show")
        if no_shows:
            self.perform(self.rng.choice(no_shows), "requeue")

    def cancel(self, world: World) -> None:
        waiting = self.of(world, "waiting")
        if not waiting:
            return
        taken = self.rng.choice(waiting)
        if self.rng.random() < 0.5:  # the patient, from the phone page
            response = world.client.post(
                f"{API}/tickets/{taken.id}/cancel",
                headers={"X-Ticket-Token": taken.created["token"]},
            )
        else:
            response = world.act(taken.created, "cancel")
        assert self.ok(response)["status"] == "cancelled"
        taken.status = "cancelled"

    def step(self, world: World) -> None:
        local_hour = self.clock.now.astimezone(ZoneInfo(world.clinic["timezone"])).hour
        busy = 40 if local_hour < 11 else 12  # mornings bring most patients
        kind = self.rng.choices(
            ["take", "call", "act", "requeue", "cancel"], weights=[busy, 34, 50, 9, 3]
        )[0]
        if kind == "take":
            self.take(world)
        elif kind == "call":
            with_waiting = sorted(
                {
                    counter
                    for counter, prefix in COUNTER_SERVICE.items()
                    if self.of(world, "waiting", prefix=prefix)
                }
            )
            counters = with_waiting if with_waiting and self.rng.random() < 0.9 else None
            self.call(world, self.rng.choice(counters or sorted(COUNTER_SERVICE)))
        elif kind == "act":
            self.act_on_held(world)
        elif kind == "requeue":
            self.requeue(world)
        else:
            self.cancel(world)

    def set_target(self, world: World, prefix: str, minutes: int | None) -> None:
        service_id = world.services[prefix]["id"]
        response = world.client.patch(
            f"{API}/services/{service_id}",
            headers=world.admin,
            json={"target_wait_minutes": minutes},
        )
        assert self.ok(response)["target_wait_minutes"] == minutes
        self.targets[service_id].append((self.clock.now, minutes))
        self.clock.advance(seconds=1)

    def open_day(self, index: int) -> None:
        """From 07:00-07:15 WITA of the index-th day (the first day opens at 08:00 WITA): a
        ticket or two, then each clinic's first call, which expires its day before."""
        self.day = FIRST_DAY + timedelta(days=index)
        if not index:
            return
        opening = datetime.combine(self.day, time(7, 0), tzinfo=WITA)
        self.clock.set(opening + timedelta(seconds=self.rng.randint(0, 900)))
        for world in self.worlds:
            if index == 1 and world is self.worlds[1]:
                self.stepped_out(world)
            elif index == 2 and world is self.worlds[0]:
                # The day's first patient is called exactly at Pendaftaran's target (now 10
                # minutes): within target, as "wait <= target" says.
                self.take(world, prefix="A")
                self.clock.advance(minutes=10)
            else:
                for _ in range(self.rng.randint(0, 2)):
                    self.take(world)
                    self.clock.advance(seconds=self.rng.randint(5, 90))
            self.call(world, "Loket 1")
            self.clock.advance(seconds=self.rng.randint(5, 90))

    def stepped_out(self, world: World) -> None:
        """The day's first patient is not there when called, comes back, is requeued, called
        again (the first call still counts for the wait), recalled, and served."""
        self.take(world, prefix="A")
        self.clock.advance(seconds=self.rng.randint(30, 300))
        self.call(world, "Loket 1")
        taken = self.tickets[max(self.tickets)]
        assert self.held[(world.clinic_id, "Loket 1")] == taken.id
        for action in ["no-show", "requeue"]:
            self.clock.advance(seconds=self.rng.randint(30, 300))
            self.perform(taken, action)
        self.clock.advance(seconds=self.rng.randint(30, 300))
        self.call(world, "Loket 2")
        assert self.held[(world.clinic_id, "Loket 2")] == taken.id
        for action in ["recall", "start", "complete"]:
            self.clock.advance(seconds=self.rng.randint(30, 300))
            self.perform(taken, action)

    def run_until(self, until: time) -> None:
        """Random steps, STEP_SECONDS apart on average, until `until` (WITA) of the day."""
        end = datetime.combine(self.day, until, tzinfo=WITA)
        while self.clock.now < end:
            self.step(self.rng.choice(self.worlds))
            self.clock.advance(seconds=self.rng.randint(STEP_SECONDS // 5, STEP_SECONDS * 9 // 5))

    def close_day(self) -> None:
        """Some patients called last never came (their no-show is left to expire); the rest
        stay at their counters, and expire too, with whoever still waits."""
        for _, ticket_id in sorted(self.held.items()):
            taken = self.tickets[ticket_id]
            if taken.status == "called" and self.rng.random() < 0.6:
                self.perform(taken, "no-show")
            self.clock.advance(seconds=self.rng.randint(5, 60))


def run_workload(client: TestClient, clock: FakeClock, *, days: int, seed: int) -> Workload:
    """Two clinics (WITA and WIB); `days` full local days, then the morning of one more whose
    first calls expire the last full day and whose legs are still open when reported."""
    worlds = [
        World.build(client, code="KLANDASAN"),
        World.build(client, code="SEPINGGAN", timezone="Asia/Jakarta"),
    ]
    workload = Workload(worlds, clock, random.Random(seed))
    for index in range(days):
        workload.open_day(index)
        if index == 1:  # targets change mid-morning: legs keep the target of when they began
            workload.run_until(time(10, 30))
            workload.set_target(worlds[0], "A", 10)
            workload.set_target(worlds[1], "B", None)
        workload.run_until(time(15, 30))
        workload.close_day()
    workload.open_day(days)
    workload.run_until(time(9, 0))  # what is open now stays open for the report
    return workload


# --- the independent derivation, from the raw event log -------------------------------------


@dataclass
class Leg:
    ticket_id: int
    number: int
    clinic_id: int
    service_id: int
    visit_date: date
    entered: datetime
    target: int | None
    first_call: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None
    counter_id: int | None = None
    recalls: int = 0
    requeued: bool = False
    expired_event: bool = False

    @property
    def wait(self) -> float | None:
        """Seconds from the leg's beginning to its first call."""
        if self.first_call is None:
            return None
        return (self.first_call - self.entered).total_seconds()

    @property
    def within_target(self) -> bool | None:
        """For a called leg with a target: did it wait no longer than the target?"""
        if self.wait is None or self.target is None:
            return None
        return self.wait <= self.target * 60

    @property
    def service_time(self) -> float | None:
        """Seconds from the start (or the first call) to the end, for served legs."""
        if self.outcome not in SERVED:
            return None
        began = self.start or self.first_call
        assert began is not None
        assert self.end is not None
        return (self.end - began).total_seconds()


def raw_log(engine: Engine) -> list[tuple[TicketEvent, date]]:
    """Every event, in log order, with its ticket's visit date: straight from the tables."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(TicketEvent, col(Ticket.visit_date))
                .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
                .order_by(col(TicketEvent.id))
            ).all()
        )


def derive(
    log: Iterable[tuple[TicketEvent, date]], target_at: Callable[[int, datetime], int | None]
) -> list[Leg]:
    """The contract: a leg begins when the ticket enters a service's queue (issue or transfer
    in) and ends done, transferred, no_show, cancelled or expired; a requeue continues the leg.
    Where it is silent (docs/reports.md): a no-show that the day's end expires stays a no-show."""
    legs: dict[int, list[Leg]] = {}
    for event, visit_date in log:
        kind, at = event.type.value, event.at
        mine = legs.setdefault(event.ticket_id, [])
        if kind == "issued":
            assert not mine
            assert event.leg == 1
            mine.append(
                Leg(
                    event.ticket_id,
                    1,
                    event.clinic_id,
                    event.service_id,
                    visit_date,
                    at,
                    target_at(event.service_id, at),
                )
            )
            continue
        leg = mine[-1]
        assert (event.leg, event.service_id, event.clinic_id) == (
            leg.number,
            leg.service_id,
            leg.clinic_id,
        ), event
        if leg.outcome is not None:  # only these follow an ending (a no-show)
            assert (leg.outcome, kind) in (("no_show", "requeued"), ("no_show", "expired")), event
        if kind in ("called", "recalled"):
            assert event.counter_id is not None
            leg.counter_id = event.counter_id
            leg.recalls += kind == "recalled"
            leg.first_call = leg.first_call or at
        elif kind == "started":
            assert leg.start is None
            leg.start = at
        elif kind == "requeued":
            leg.outcome, leg.end, leg.requeued = None, None, True
        elif kind == "expired":
            leg.expired_event = True
            if leg.outcome is None:
                leg.outcome, leg.end = "expired", at
        elif kind in ("completed", "cancelled", "no_show", "transferred"):
            leg.outcome = {"completed": "done", "cancelled": "cancelled"}.get(kind, kind)
            leg.end = at
            if kind == "transferred":
                assert event.from_service_id == leg.service_id
                assert event.to_service_id is not None
                mine.append(
                    Leg(
                        event.ticket_id,
                        leg.number + 1,
                        leg.clinic_id,
                        event.to_service_id,
                        visit_date,
                        at,
                        target_at(event.to_service_id, at),
                    )
                )
        else:
            raise AssertionError(f"unknown event {kind}")
    return [leg for mine in legs.values() for leg in mine]


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """numpy's default ("linear"): interpolate between the two closest ranks."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * fraction
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def figures(legs: Sequence[Leg]) -> Json:
    waits = sorted(wait for leg in legs if (wait := leg.wait) is not None)
    service_times = [took for leg in legs if (took := leg.service_time) is not None]
    targeted = [met for leg in legs if (met := leg.within_target) is not None]
    outcomes = Tally(leg.outcome for leg in legs)
    return {
        "issued": len(legs),
        "served": outcomes["done"] + outcomes["transferred"],
        "no_show": outcomes["no_show"],
        "cancelled": outcomes["cancelled"],
        "wait_mean_min": minutes(mean(waits)),
        "wait_median_min": minutes(percentile(waits, 0.5)),
        "wait_p90_min": minutes(percentile(waits, 0.9)),
        "wait_max_min": minutes(max(waits) if waits else None),
        "service_mean_min": minutes(mean(service_times)),
        "within_target_pct": round(100 * sum(targeted) / len(targeted), 2) if targeted else None,
    }


@dataclass
class Names:
    clinics: dict[int, Json]
    services: dict[int, str]
    counters: dict[int, str]

    @classmethod
    def of(cls, worlds: Sequence[World]) -> "Names":
        return cls(
            clinics={world.clinic_id: world.clinic for world in worlds},
            services={s["id"]: s["name"] for w in worlds for s in w.services.values()},
            counters={c["id"]: c["name"] for w in worlds for c in w.counters.values()},
        )

    def zone(self, clinic_id: int) -> ZoneInfo:
        return ZoneInfo(self.clinics[clinic_id]["timezone"])


def group_fields(leg: Leg, group: str, names: Names) -> list[Any]:
    if group == "day":
        return [leg.visit_date.isoformat()]
    if group == "hour":
        return [leg.entered.astimezone(names.zone(leg.clinic_id)).hour]
    if group == "service":
        return [leg.service_id, names.services[leg.service_id]]
    if group == "clinic":
        return [leg.clinic_id, names.clinics[leg.clinic_id]["name"]]
    assert group == "counter"
    if leg.counter_id is None:
        return [None, None]
    return [leg.counter_id, names.counters[leg.counter_id]]


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    clinic_id: int | None = None
    service_id: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
        }
        if self.clinic_id is not None:
            params["clinic_id"] = self.clinic_id
        if self.service_id is not None:
            params["service_id"] = self.service_id
        return params

    def holds(self, leg: Leg) -> bool:
        return (
            self.date_from <= leg.visit_date <= self.date_to
            and self.clinic_id in (None, leg.clinic_id)
            and self.service_id in (None, leg.service_id)
        )


def expected_report(
    legs: Iterable[Leg], names: Names, period: Period, grouping: str
) -> dict[tuple[Any, ...], Json]:
    groups = grouping.split(",")
    keys = [key for group in groups for key in GROUP_KEYS[group]]
    members: dict[tuple[Any, ...], list[Leg]] = {}
    for leg in legs:
        if period.holds(leg):
            key = tuple(value for group in groups for value in group_fields(leg, group, names))
            members.setdefault(key, []).append(leg)
    return {
        key: {**dict(zip(keys, key, strict=True)), **figures(group)}
        for key, group in members.items()
    }


def report(client: TestClient, headers: Headers, period: Period, **params: str) -> Response:
    return client.get(
        f"{API}/reports/wait-times", headers=headers, params={**period.params(), **params}
    )


def rows_by_key(rows: list[Json], grouping: str) -> dict[tuple[Any, ...], Json]:
    keys = [key for group in grouping.split(",") for key in GROUP_KEYS[group]]
    found: dict[tuple[Any, ...], Json] = {}
    for row in rows:
        assert list(row) == keys + FIGURES, row  # the keys, then the contract's figures in order
        key = tuple(row[name] for name in keys)
        assert key not in found, f"two rows for {key}"
        found[key] = row
    return found


def assert_ordered_by_keys(rows: list[Json], grouping: str) -> None:
    """Rows come in the order of their group keys (no-counter rows first or last)."""
    keys = [key for group in grouping.split(",") for key in GROUP_KEYS[group]]

    def order(nulls: int) -> Callable[[Json], tuple[Any, ...]]:
        return lambda row: tuple(
            (nulls, 0) if row[name] is None else (0, row[name]) for name in keys
        )

    assert rows in (sorted(rows, key=order(-1)), sorted(rows, key=order(1)))


def local_and_utc(moment: datetime | None, zone: ZoneInfo) -> tuple[str, str]:
    if moment is None:
        return "", ""
    return (
        moment.astimezone(zone).isoformat(timespec="seconds"),
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def expected_log_row(leg: Leg, names: Names, workload: Workload) -> dict[str, str]:
    zone = names.zone(leg.clinic_id)
    created = workload.tickets[leg.ticket_id].created
    times = [local_and_utc(moment, zone) for moment in (leg.entered, leg.first_call)]
    times += [local_and_utc(moment, zone) for moment in (leg.start, leg.end)]
    estimate = created["estimated_wait_minutes"] if leg.number == 1 else None
    row = {
        "ticket_id": str(leg.ticket_id),
        "clinic_id": str(leg.clinic_id),
        "clinic_name": names.clinics[leg.clinic_id]["name"],
        "visit_date": leg.visit_date.isoformat(),
        "code": created["code"],
        "priority": created["priority"],
        "channel": created["channel"],
        "leg": str(leg.number),
        "service_id": str(leg.service_id),
        "service_name": names.services[leg.service_id],
        "outcome": leg.outcome or "",
        "counter_id": number(leg.counter_id),
        "counter_name": "" if leg.counter_id is None else names.counters[leg.counter_id],
        "recalls": str(leg.recalls),
        "wait_min": number(minutes(leg.wait)),
        "service_min": number(minutes(leg.service_time)),
        "estimate_at_issue_min": number(estimate),
    }
    for index, moment in enumerate(["entered_at", "called_at", "started_at", "ended_at"]):
        row[moment], row[f"{moment}_utc"] = times[index]
    return row


def ticket_log(client: TestClient, headers: Headers, period: Period) -> list[dict[str, str]]:
    response = client.get(f"{API}/reports/ticket-log", headers=headers, params=period.params())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.text))
    header = list(reader.fieldnames or [])
    assert set(LOG_COLUMNS + MORE_LOG_COLUMNS) <= set(header), header
    assert [name for name in header if name in LOG_COLUMNS] == LOG_COLUMNS  # the contract's order
    return list(reader)


def assert_log_matches(
    rows: list[dict[str, str]], legs: Iterable[Leg], period: Period, names: Names, w: Workload
) -> int:
    expected = {
        (leg.ticket_id, leg.number): expected_log_row(leg, names, w)
        for leg in legs
        if period.holds(leg)
    }
    found: dict[tuple[int, int], dict[str, str]] = {}
    for row in rows:
        key = (int(row["ticket_id"]), int(row["leg"]))
        assert key not in found, f"two rows for leg {key}"
        found[key] = {name: row[name] for name in LOG_COLUMNS + MORE_LOG_COLUMNS}
    assert found.keys() == expected.keys()
    for key, row in expected.items():
        assert found[key] == row, key
    return len(found)


# --- the key test ------------------------------------------------------------------------------


def test_every_report_figure_recomputed_from_the_raw_event_log_agrees(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    workload = run_workload(client, clock, days=3, seed=SEED)
    klandasan, sepinggan = workload.worlds
    names = Names.of(workload.worlds)

    def target_at(service_id: int, moment: datetime) -> int | None:
        return [target for since, target in workload.targets[service_id] if since <= moment][-1]

    log = raw_log(engine)
    legs = derive(log, target_at)

    # The test's own model of every ticket agrees with the log ...
    last_legs = {leg.ticket_id: leg for leg in sorted(legs, key=lambda leg: leg.number)}
    assert last_legs.keys() == workload.tickets.keys()
    for ticket_id, taken in workload.tickets.items():
        last = last_legs[ticket_id]
        if taken.status in ("waiting", "called", "serving"):
            assert last.outcome is None, (taken.created["code"], last)
        else:
            status = "expired" if last.expired_event else last.outcome
            assert status == taken.status, (taken.created["code"], last)
    # ... and every expiry happened at the first call of the clinic's next local day.
    for event, visit_date in log:
        if event.type.value == "expired":
            expired_on = min(
                day
                for (clinic, day) in workload.first_calls
                if clinic == event.clinic_id and day > visit_date
            )
            assert event.at == workload.first_calls[(event.clinic_id, expired_on)]

    # The workload covers what the reports must handle (should a change to the queue rules
    # make the seeded run miss something here, pick another SEED).
    outcomes = Tally(leg.outcome for leg in legs)
    assert {"done", "transferred", "no_show", "cancelled", "expired", None} <= set(outcomes)
    assert min(outcomes.values()) >= 3, outcomes
    assert len(legs) >= 80
    assert {leg.number for leg in legs} == {1, 2, 3}  # A -> B -> D
    assert any(leg.outcome == "no_show" and leg.expired_event for leg in legs)
    assert any(leg.requeued and leg.outcome in SERVED for leg in legs)
    served = [leg for leg in legs if leg.outcome in SERVED]
    assert any(leg.start is None for leg in served)
    assert any(leg.start is not None for leg in served)
    assert any(leg.recalls for leg in legs)
    assert any(leg.outcome == "expired" and leg.first_call is None for leg in legs)
    assert any(leg.outcome == "expired" and leg.first_call is not None for leg in legs)
    assert {leg.target for leg in legs} == {15, 10, 30, None}
    assert len({leg.visit_date for leg in legs}) == 4
    local_hours = {leg.entered.astimezone(names.zone(leg.clinic_id)).hour for leg in legs}
    assert len(local_hours) >= 8
    priorities = Tally(t.created["priority"] for t in workload.tickets.values())
    channels = Tally(t.created["channel"] for t in workload.tickets.values())
    assert set(priorities) == set(PRIORITIES)
    assert set(channels) == {"kiosk", "staff", "phone"}
    # Some called leg is measured against a target its service no longer has (Poli Umum of
    # SEPINGGAN: 30, then none), which reading today's targets would drop.
    today_target = {service_id: history[-1][1] for service_id, history in workload.targets.items()}
    assert any(
        leg.wait is not None and leg.target is not None and today_target[leg.service_id] is None
        for leg in legs
    )
    assert any(leg.wait == leg.target * 60 for leg in legs if leg.target is not None)
    # Waits in whole seconds that do not all fall on minutes, so percentiles interpolate.
    assert any(leg.wait is not None and leg.wait % 60 for leg in legs)

    last_day = FIRST_DAY + timedelta(days=3)
    second_day, third_day = FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=2)
    whole = Period(FIRST_DAY, last_day)
    sepinggan_later = Period(second_day, last_day, sepinggan.clinic_id)
    poli_umum = Period(FIRST_DAY, last_day, service_id=klandasan.services["B"]["id"])
    klandasan_only = Period(FIRST_DAY, last_day, klandasan.clinic_id)
    # Who asks, what they ask, what they may see, and the groupings compared.
    asks = [
        (klandasan.admin, whole, whole, [*GROUPINGS, "counter,service", "hour,counter,clinic"]),
        (klandasan.clinic_admin, whole, klandasan_only, ["clinic", "counter", "service,hour"]),
        (klandasan.admin, sepinggan_later, sepinggan_later, ["day", "hour", "counter,day"]),
        (klandasan.admin, poli_umum, poli_umum, ["day", "counter"]),
        (
            sepinggan.clinic_admin,
            Period(third_day, third_day),
            Period(third_day, third_day, sepinggan.clinic_id),
            ["hour", "service"],
        ),
    ]
    compared = 0
    for headers, asked, seen, groupings in asks:
        for grouping in groupings:
            response = report(client, headers, asked, group_by=grouping)
            assert response.status_code == 200, response.text
            rows = response.json()["rows"]
            assert_ordered_by_keys(rows, grouping)
            expected = expected_report(legs, names, seen, grouping)
            assert rows_by_key(rows, grouping) == expected, (asked, grouping)
            compared += len(rows)
        log_rows = ticket_log(client, headers, asked)
        assert assert_log_matches(log_rows, legs, seen, names, workload) == sum(
            1 for leg in legs if seen.holds(leg)
        )
    assert compared > 150
    empty = Period(date(2026, 1, 1), date(2026, 1, 31))
    assert report(client, klandasan.admin, empty, group_by="clinic").json() == {"rows": []}
    assert ticket_log(client, klandasan.admin, empty) == []


# --- formats -----------------------------------------------------------------------------------


def two_days_of_one_clinic(world: World, clock: FakeClock) -> None:
    """Served, transferred, still held and never called legs over two local days."""
    first, elderly, dental = world.take("A"), world.take("A", "elderly"), world.take("C")
    clock.advance(seconds=437)
    assert world.call("Loket 1").json()["id"] == elderly["id"]  # priority first
    clock.advance(seconds=125)
    world.act(elderly, "start")
    clock.advance(seconds=301)
    world.act(elderly, "transfer", service_id=world.services["B"]["id"])
    assert world.call("Loket 2").json()["id"] == first["id"]
    clock.advance(seconds=733)
    assert world.call("Ruang Umum").json()["id"] == elderly["id"]
    clock.advance(seconds=1111)
    world.act(elderly, "complete")
    clock.advance(hours=1, seconds=17)
    late = world.take("A")
    clock.advance(seconds=59)
    assert world.call("Loket 1").json()["id"] == late["id"]
    clock.advance(days=1)  # `dental` is never called: its legs have no counter
    next_day = world.take("A")
    clock.advance(seconds=200)
    assert world.call("Loket 1").json()["id"] == next_day["id"]
    assert world.ticket(dental)["status"] == "expired"


def csv_cell(value: Any) -> str:
    return "" if value is None else str(value)


def test_csv_and_xlsx_have_the_json_rows_with_typed_cells(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    two_days_of_one_clinic(world, clock)
    period = Period(FIRST_DAY, FIRST_DAY + timedelta(days=1))
    for grouping in ["day", "counter", "clinic,day,hour"]:
        rows = report(client, world.admin, period, group_by=grouping).json()["rows"]
        columns = [key for group in grouping.split(",") for key in GROUP_KEYS[group]] + FIGURES
        assert len(rows) >= 2
        if grouping == "counter":  # the never called leg: no counter, wait or target
            uncalled = [row for row in rows if row["counter_id"] is None]
            assert [(row["wait_max_min"], row["within_target_pct"]) for row in uncalled] == [
                (None, None)
            ]

        as_csv = report(client, world.admin, period, group_by=grouping, format="csv")
        assert as_csv.status_code == 200, as_csv.text
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert as_csv.headers["content-disposition"] == (
            'attachment; filename="antrean-wait-times-2026-11-23-2026-11-24.csv"'
        )
        lines = list(csv.reader(io.StringIO(as_csv.text)))
        assert lines[0] == columns  # the group keys, then the contract's figures in order
        assert lines[1:] == [[csv_cell(row[name]) for name in columns] for row in rows]

        as_xlsx = report(client, world.admin, period, group_by=grouping, format="xlsx")
        assert as_xlsx.status_code == 200, as_xlsx.text
        assert as_xlsx.headers["content-type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
        cells = list(sheet.iter_rows())
        assert [cell.value for cell in cells[0]] == columns
        assert len(cells) == len(rows) + 1
        for row, line in zip(rows, cells[1:], strict=True):
            for name, cell in zip(columns, line, strict=True):
                value = row[name]
                if value is None:
                    assert cell.value is None, (name, row)
                elif name == "date":
                    assert cell.is_date
                    assert cell.value.date() == date.fromisoformat(value)
                elif name in COUNT_FIGURES or name.endswith("_id") or name == "hour":
                    assert type(cell.value) is int, (name, cell.value)
                    assert cell.value == value
                elif name in FIGURES:  # minutes and percentages: numbers, shown with 2 decimals
                    assert cell.data_type == "n"
                    assert isinstance(cell.value, int | float)
                    assert cell.value == value, (name, cell.value)
                    assert cell.number_format == "0.00"
                else:
                    assert cell.data_type == "s", (name, cell.value)
                    assert cell.value == value


# --- rights and bad input ---------------------------------------------------------------------

REPORTS = ["wait-times", "ticket-log"]
DAY = {"date_from": FIRST_DAY.isoformat(), "date_to": FIRST_DAY.isoformat()}


def clinics_in(response: Response, kind: str) -> set[int]:
    assert response.status_code == 200, response.text
    if kind == "wait-times":
        return {row["clinic_id"] for row in response.json()["rows"]}
    return {int(row["clinic_id"]) for row in csv.DictReader(io.StringIO(response.text))}


def test_who_may_read_reports(client: TestClient) -> None:
    klandasan = World.build(client, code="KLANDASAN")
    sepinggan = World.build(client, code="SEPINGGAN")
    for world in (klandasan, sepinggan):
        world.take("A")
    own, other = klandasan.clinic_id, sepinggan.clinic_id
    own_service, other_service = klandasan.services["A"]["id"], sepinggan.services["A"]["id"]

    for kind in REPORTS:

        def get(headers: Headers, kind: str = kind, **params: Any) -> Response:
            query = {**DAY, **params}
            if kind == "wait-times":
                query.setdefault("group_by", "clinic")
            return client.get(f"{API}/reports/{kind}", headers=headers, params=query)

        # The health office sees every clinic, or the one it names.
        assert clinics_in(get(klandasan.admin), kind) == {own, other}
        assert clinics_in(get(klandasan.admin, clinic_id=other), kind) == {other}
        assert clinics_in(get(klandasan.admin, service_id=other_service), kind) == {other}
        # A clinic admin sees their own clinic: by default, or named, or one of its services.
        assert clinics_in(get(klandasan.clinic_admin), kind) == {own}
        assert clinics_in(get(klandasan.clinic_admin, clinic_id=own), kind) == {own}
        assert clinics_in(get(klandasan.clinic_admin, service_id=own_service), kind) == {own}
        assert clinics_in(get(sepinggan.clinic_admin), kind) == {other}
        # ... never another's: named, through its service, or a clinic that does not exist.
        assert get(klandasan.clinic_admin, clinic_id=other).status_code == 403
        assert get(klandasan.clinic_admin, service_id=other_service).status_code == 403
        assert get(klandasan.clinic_admin, clinic_id=987654).status_code == 403
        # A clinic with another clinic's service contradicts itself: 422, for anyone.
        for headers in (klandasan.clinic_admin, klandasan.admin):
            assert get(headers, clinic_id=own, service_id=other_service).status_code == 422
        # Staff and devices: 403. Nobody, or a bad token: 401.
        for headers in (klandasan.staff, sepinggan.staff, klandasan.kiosk, klandasan.display):
            assert get(headers).status_code == 403, kind
        assert get({}).status_code == 401
        assert get({"Authorization": "Bearer not-a-token"}).status_code == 401


BAD_INPUT: list[tuple[dict[str, Any], int]] = [
    ({"date_from": "2026-11-24", "date_to": "2026-11-23"}, 422),  # from after to
    ({"date_from": "2026-02-30", "date_to": "2026-03-01"}, 422),
    ({"date_from": "yesterday", "date_to": "2026-11-23"}, 422),
    ({"date_from": "2026-11-23", "date_to": "23/11/2026"}, 422),
    ({"date_from": "2026-11-23"}, 422),
    ({"date_to": "2026-11-23"}, 422),
    ({**DAY, "clinic_id": 987654}, 404),
    ({**DAY, "service_id": 987654}, 404),
    ({**DAY, "clinic_id": 0}, 422),
    ({**DAY, "clinic_id": "abc"}, 422),
    ({**DAY, "clinic_id": 2**70}, 422),
    ({**DAY, "service_id": -1}, 422),
]
BAD_GROUPING: list[tuple[dict[str, Any], int]] = [
    ({**DAY, "group_by": "weekday"}, 422),
    ({**DAY, "group_by": ""}, 422),
    ({**DAY, "group_by": ","}, 422),
    ({**DAY, "group_by": "Day"}, 422),
    ({**DAY, "group_by": "day," * 30}, 422),
    ({**DAY, "format": "pdf"}, 422),
]


def test_bad_report_input_is_refused_never_a_500(client: TestClient, world: World) -> None:
    world.take("A")
    for kind in REPORTS:
        cases = BAD_INPUT + (BAD_GROUPING if kind == "wait-times" else [])
        for params, status in cases:
            response = client.get(f"{API}/reports/{kind}", headers=world.admin, params=params)
            assert response.status_code == status, (kind, params, response.text)
            assert "detail" in response.json()
    # A group named twice counts once.
    twice = client.get(
        f"{API}/reports/wait-times",
        headers=world.admin,
        params={**DAY, "group_by": "clinic,day,clinic"},
    )
    once = client.get(
        f"{API}/reports/wait-times", headers=world.admin, params={**DAY, "group_by": "clinic,day"}
    )
    assert twice.status_code == 200, twice.text
    assert twice.json() == once.json()
    # Spaces around the groups are fine.
    response = client.get(
        f"{API}/reports/wait-times",
        headers=world.admin,
        params={**DAY, "group_by": " clinic , day "},
    )
    assert response.status_code == 200, response.text
    assert [(row["clinic_id"], row["date"]) for row in response.json()["rows"]] == [
        (world.clinic_id, "2026-11-23")
    ]


# --- streaming ---------------------------------------------------------------------------------

MANY = 2300


def seed_many_legs(engine: Engine, world: World, clock: FakeClock) -> None:
    """MANY one-leg tickets written straight to the tables (through the API this would take
    minutes): enough for the ticket log to come in more than one batch."""
    service_id = world.services["A"]["id"]
    counter_id = world.counters["Loket 1"]["id"]
    tickets, legs = [], []
    for number in range(1, MANY + 1):
        entered = clock.now + timedelta(seconds=number)
        common = {"clinic_id": world.clinic_id, "service_id": service_id, "visit_date": FIRST_DAY}
        tickets.append(
            {
                **common,
                "id": number,
                "origin_service_id": service_id,
                "number": number,
                "code": f"A-{number:04d}",
                "status": TicketStatus.done,
                "priority": Priority.none,
                "channel": Channel.kiosk,
                "leg": 1,
                "recall_count": 0,
                "issued_at": entered,
                "entered_at": entered,
                "queue_key": entered,
                "token_digest": "0" * 64,
            }
        )
        legs.append(
            {
                **common,
                "ticket_id": number,
                "leg": 1,
                "entered_hour": 8,
                "entered_at": entered,
                "first_called_at": entered + timedelta(seconds=90),
                "ended_at": entered + timedelta(seconds=300),
                "outcome": LegOutcome.done,
                "counter_id": counter_id,
                "recalls": 0,
                "wait_seconds": 90.0,
                "service_seconds": 210.0,
                "target_wait_minutes": 15,
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(Ticket), tickets)
        connection.execute(insert(TicketLeg), legs)


def test_the_ticket_log_is_streamed_in_batches(
    client: TestClient, world: World, clock: FakeClock, engine: Engine
) -> None:
    seed_many_legs(engine, world, clock)
    with client.stream(
        "GET", f"{API}/reports/ticket-log", headers=world.admin, params=DAY
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # its length is not known up front
        assert response.headers["content-disposition"] == (
            'attachment; filename="antrean-ticket-log-2026-11-23-2026-11-23.csv"'
        )
        chunks = [chunk for chunk in response.iter_raw() if chunk]
    assert len(chunks) >= 2  # written out a batch at a time, not built whole first
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == MANY + 1
    assert lines[0].startswith("ticket_id,")
    assert all(chunk.endswith(b"\r\n") for chunk in chunks)  # batches end on whole rows

    # The generator itself hands out the first batch before reading the rest.
    query = ReportQuery(date_from=FIRST_DAY, date_to=FIRST_DAY)
    batches = ticket_log_csv(engine, query)
    first = next(batches)
    assert 1 < first.count("\r\n") < MANY + 1
    rest = list(batches)
    assert sum(batch.count("\r\n") for batch in [first, *rest]) == MANY + 1
