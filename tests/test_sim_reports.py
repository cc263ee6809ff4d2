"""Simulated days loaded into the database: the reports equal the simulator's own record.

A month of two puskesmas in two timezones (the small scenario, and the same clinic kept on
Jayapura's time) is simulated with a fixed seed, loaded by app/sim/load.py, and every report
figure the service gives (wait times by day, hour, service, clinic, counter, and combined) is
compared with the same figure recomputed here from the simulator's record alone: each
ticket's events as the engine logged them (times, counters, the services it was sent to),
turned into legs by the definitions of docs/reports.md, with none of the service's leg,
rollup or report code. The ticket log has one row per leg of the record.

Then: a ticket taken live after a load gets the next number, id and seq, and building a
clinic's rows again changes nothing.
"""

import csv
import io
import math
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.models import Clinic, Counter, EventType, Service, Ticket, TicketEvent, User
from app.models.bookkeeping import DailySequence
from app.reports.query import GroupBy, ReportQuery
from app.reports.ticket_log import ticket_log_csv
from app.reports.wait_times import wait_times
from app.sim.engine import simulate
from app.sim.load import load_days
from app.sim.record import Day, SimClinic
from app.sim.scenario import Scenario, load_scenario
from app.sim.seed import build_clinic
from tests.clock import FakeClock

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "small-puskesmas.json"
SEED = 20261207
START = date(2026, 10, 1)
DAYS = 30
END = START + timedelta(days=DAYS - 1)
API = "/api/v1"


def two_clinics() -> Scenario:
    small = load_scenario(SCENARIO).clinics[0]
    east = small.model_copy(
        update={"code": "PKM-TIMUR", "name": "Puskesmas Timur", "timezone": "Asia/Jayapura"}
    )
    return Scenario(clinics=[small, east])


@dataclass(frozen=True)
class Logged:
    """One event as the simulator logged it."""

    ts: float
    type: EventType
    counter_id: int | None
    to_service_id: int | None


@dataclass(frozen=True)
class Visit:
    """A ticket of the record: its clinic, day and events in the order they happened."""

    clinic: SimClinic
    visit_date: date
    events: tuple[Logged, ...]


def the_record(days: Sequence[Day]) -> list[Visit]:
    """What the simulator recorded, copied before a load gives the objects ids."""
    visits = []
    for day in days:
        mine: dict[int, list[Logged]] = {id(ticket): [] for ticket in day.tickets}
        for event in day.events:
            logged = Logged(event.ts, event.type, event.counter_id, event.to_service_id)
            mine[id(event.ticket)].append(logged)
        visits += [Visit(t.clinic, t.visit_date, tuple(mine[id(t)])) for t in day.tickets]
    return visits


def stored(ts: float) -> datetime:
    """A simulated instant as the database keeps it (to the microsecond, UTC)."""
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class Leg:
    clinic: SimClinic
    service_id: int
    visit_date: date
    entered: datetime
    first_call: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None
    counter_id: int | None = None

    @property
    def target(self) -> int | None:
        return self.clinic.target_by_id()[self.service_id]

    @property
    def wait(self) -> float | None:
        return None if self.first_call is None else (self.first_call - self.entered).total_seconds()

    @property
    def service_time(self) -> float | None:
        if self.outcome not in ("done", "transferred") or self.end is None:
            return None
        began = self.start or self.first_call
        return None if began is None else (self.end - began).total_seconds()


ENDS = {"completed": "done", "transferred": "transferred", "no_show": "no_show",
        "cancelled": "cancelled", "expired": "expired"}  # fmt: skip


def legs_of(visit: Visit) -> list[Leg]:
    """docs/reports.md: a leg begins when the ticket enters a service's queue and ends with
    its outcome; a requeue continues it; a no-show the day's end expires stays a no-show; wait
    is to the first call, service from the start (or first call) to the end when served."""
    legs: list[Leg] = []
    for event in visit.events:
        kind, at = event.type.value, stored(event.ts)
        if kind == "issued":
            assert event.to_service_id is not None
            legs.append(Leg(visit.clinic, event.to_service_id, visit.visit_date, at))
            continue
        leg = legs[-1]
        if kind in ("called", "recalled"):
            leg.counter_id = event.counter_id
            leg.first_call = leg.first_call or at
        elif kind == "started":
            leg.start = leg.start or at
        elif kind == "requeued":
            leg.outcome = leg.end = None
        elif kind == "expired" and leg.outcome == "no_show":
            pass
        else:
            leg.outcome, leg.end = ENDS[kind], at
            if kind == "transferred":
                assert event.to_service_id is not None
                legs.append(Leg(visit.clinic, event.to_service_id, visit.visit_date, at))
    return legs


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * fraction
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def figures(legs: Sequence[Leg]) -> dict[str, Any]:
    waits = sorted(wait for leg in legs if (wait := leg.wait) is not None)
    served = [took for leg in legs if (took := leg.service_time) is not None]
    targeted = [
        wait <= target * 60
        for leg in legs
        if (wait := leg.wait) is not None and (target := leg.target) is not None
    ]
    outcomes = Tally(leg.outcome for leg in legs)
    return {
        "issued": len(legs),
        "served": outcomes["done"] + outcomes["transferred"],
        "no_show": outcomes["no_show"],
        "cancelled": outcomes["cancelled"],
        "wait_mean_min": minutes(sum(waits) / len(waits)) if waits else None,
        "wait_median_min": minutes(percentile(waits, 0.5)),
        "wait_p90_min": minutes(percentile(waits, 0.9)),
        "wait_max_min": minutes(max(waits)) if waits else None,
        "service_mean_min": minutes(sum(served) / len(served)) if served else None,
        "within_target_pct": round(100 * sum(targeted) / len(targeted), 2) if targeted else None,
    }


def group_of(leg: Leg, group: GroupBy) -> dict[str, Any]:
    clinic = leg.clinic
    if group is GroupBy.day:
        return {"date": leg.visit_date}
    if group is GroupBy.hour:
        return {"hour": leg.entered.astimezone(ZoneInfo(clinic.timezone)).hour}
    if group is GroupBy.service:
        names = {sid: name for name, sid in clinic.services.items()}
        return {"service_id": leg.service_id, "service_name": names[leg.service_id]}
    if group is GroupBy.clinic:
        return {"clinic_id": clinic.id, "clinic_name": clinic.name}
    names = {cid: name for name, cid in clinic.counters.items()}
    return {"counter_id": leg.counter_id, "counter_name": names.get(leg.counter_id or 0)}


def expected(legs: Sequence[Leg], query: ReportQuery) -> dict[tuple[Any, ...], dict[str, Any]]:
    members: dict[tuple[Any, ...], tuple[dict[str, Any], list[Leg]]] = {}
    for leg in legs:
        if not query.date_from <= leg.visit_date <= query.date_to:
            continue
        if query.clinic_ids is not None and leg.clinic.id not in query.clinic_ids:
            continue
        if query.service_id is not None and leg.service_id != query.service_id:
            continue
        keys = {k: v for group in query.group_by for k, v in group_of(leg, group).items()}
        members.setdefault(tuple(keys.values()), (keys, []))[1].append(leg)
    return {key: {**keys, **figures(group)} for key, (keys, group) in members.items()}


def simulated_month(engine: Engine) -> tuple[list[SimClinic], list[Visit]]:
    scenario = two_clinics()
    clinics = [build_clinic(engine, plan) for plan in scenario.clinics]
    days = list(simulate(scenario, seed=SEED, days=DAYS, start=START, clinics=clinics))
    record = the_record(days)
    loaded = load_days(engine, clinics, days)
    assert loaded.tickets == len(record) > 2000
    return clinics, record


def test_reports_equal_the_simulators_record(engine: Engine) -> None:
    clinics, record = simulated_month(engine)
    legs = [leg for visit in record for leg in legs_of(visit)]
    east = clinics[1]
    week = (START + timedelta(days=7), START + timedelta(days=13))
    queries = [
        *(ReportQuery(START, END, None, None, (group,)) for group in GroupBy),
        ReportQuery(START, END, None, None, (GroupBy.clinic, GroupBy.day)),
        ReportQuery(START, END, None, None, (GroupBy.service, GroupBy.hour)),
        ReportQuery(*week, (east.id,), None, (GroupBy.counter, GroupBy.day)),
        ReportQuery(*week, (east.id,), east.services["Poli Umum"], (GroupBy.hour,)),
    ]
    with Session(engine) as session:
        for query in queries:
            rows = wait_times(session, query)
            names = [k for group in query.group_by for k in group_of(legs[0], group)]
            found = {tuple(row[name] for name in names): row for row in rows}
            assert len(found) == len(rows), query
            assert found == expected(legs, query), query
    # The ticket log: one row a leg of the record.
    text = "".join(ticket_log_csv(engine, ReportQuery(START, END)))
    assert len(list(csv.reader(io.StringIO(text)))) - 1 == len(legs)
    # The wait estimator's history: each service-day's first call, as the service keeps it.
    firsts: dict[tuple[int, date], float] = {}
    for leg in legs:
        if leg.first_call is not None:
            key, at = (leg.service_id, leg.visit_date), leg.first_call.timestamp()
            firsts[key] = min(firsts.get(key, at), at)
    with Session(engine) as session:
        kept = {
            (row.service_id, row.visit_date): row.first_call_at
            for row in session.exec(select(DailySequence))
            if row.first_call_at is not None
        }
    assert len(firsts) > 100
    assert kept == pytest.approx(firsts, abs=1e-3)


def test_a_ticket_taken_after_a_load_continues_the_numbers(
    engine: Engine, client: TestClient, clock: FakeClock
) -> None:
    scenario = two_clinics()
    clinics = [build_clinic(engine, plan) for plan in scenario.clinics]
    last = START + timedelta(days=2)
    days = list(simulate(scenario, seed=SEED, days=3, start=START, clinics=clinics))
    loaded = load_days(engine, clinics, days)
    clinic = clinics[0]
    entry = clinic.services["Pendaftaran"]
    numbered = sum(
        1
        for day in days
        for ticket in day.tickets
        if ticket.origin_service_id == entry and ticket.visit_date == last
    )
    assert numbered > 20
    with Session(engine) as session:
        seq = session.exec(select(Clinic.event_seq).where(col(Clinic.id) == clinic.id)).one()
        events = select(func.count()).where(col(TicketEvent.clinic_id) == clinic.id)
        assert seq == session.exec(events).one()
    # Late on the last day loaded, at the clinic.
    clock.set(datetime(last.year, last.month, last.day, 22, tzinfo=ZoneInfo(clinic.timezone)))
    taken = client.post(f"{API}/clinics/{clinic.id}/tickets", json={"service_id": entry})
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    assert ticket["number"] == numbered + 1
    assert ticket["code"] == f"A-{numbered + 1:03d}"
    assert ticket["id"] == loaded.tickets + 1
    with Session(engine) as session:
        event = session.exec(
            select(TicketEvent).where(col(TicketEvent.ticket_id) == ticket["id"])
        ).one()
        assert event.seq == seq + 1
        assert session.get(Ticket, ticket["id"]) is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_building_a_clinic_again_changes_nothing(engine: Engine) -> None:
    plan = two_clinics().clinics[0]
    first = build_clinic(engine, plan)

    def counts() -> list[int]:
        with Session(engine) as session:
            return [
                session.exec(select(func.count()).select_from(model)).one()
                for model in (Clinic, Service, Counter, User)
            ]

    before = counts()
    assert build_clinic(engine, plan) == first
    assert counts() == before
    assert len(first.counters) == len(first.staff) == before[2] == before[3]
