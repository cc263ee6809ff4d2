"""The simulator plays clinic-days by the queue's own rules, as configured, reproducibly."""

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.models import Channel, EventType, Priority, TicketStatus
from app.queueing.priority import queue_key
from app.queueing.states import ACTION_OF, Refusal, transition
from app.sim.engine import simulate
from app.sim.record import Day, SimEvent, SimTicket
from app.sim.scenario import ClinicPlan, Scenario, load_scenario, minute_of_day
from app.sim.view import ClinicView

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
MONDAY = date(2026, 1, 5)
FINAL = {TicketStatus.done, TicketStatus.cancelled, TicketStatus.expired}


@cache
def scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.json")


@cache
def days(name: str, seed: int, count: int) -> tuple[Day, ...]:
    return tuple(simulate(scenario(name), seed=seed, days=count, start=MONDAY))


def _local(day: date, hhmm: str, zone: str) -> float:
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return (midnight + timedelta(minutes=minute_of_day(hhmm))).timestamp()


def _staffed(plan: ClinicPlan, day: date) -> dict[str, list[tuple[float, float]]]:
    """Each counter's calling intervals (open to close less its pauses), epoch seconds."""
    found: dict[str, list[tuple[float, float]]] = {}
    for service in plan.services:
        for index, counter in enumerate(service.counters):
            edges = [counter.open, *(t for pause in counter.pauses for t in pause), counter.close]
            times = [_local(day, t, plan.timezone) for t in edges]
            name = counter.name or f"{service.name} {index + 1}"
            found[name] = list(zip(times[::2], times[1::2], strict=True))
    return found


def check_day(day: Day, plan: ClinicPlan) -> None:
    """Every invariant of the queue, read from the day's record alone."""
    assert day.clinic is not None
    assert day.visit_date is not None
    clinic = day.clinic
    names = {service_id: name for name, service_id in clinic.services.items()}
    counter_names = {counter_id: name for name, counter_id in clinic.counters.items()}
    leads = {s.name: s.priority_lead_minutes for s in plan.services}
    hours = _staffed(plan, day.visit_date)
    order = {id(ticket): index for index, ticket in enumerate(day.tickets)}
    status: dict[int, TicketStatus | None] = {}
    last_ts: dict[int, float] = {}
    service: dict[int, str] = {}
    visited: dict[int, list[str]] = {}
    waiting: dict[str, dict[int, tuple[datetime, int]]] = {s.name: {} for s in plan.services}
    holds: dict[int, int] = {}  # counter id -> ticket
    held_by: dict[int, int] = {}  # ticket -> counter id
    previous = -math.inf
    for event in day.events:
        ticket = id(event.ticket)  # tickets have no ids before a replay
        assert event.ts >= previous, "the log is in time order"
        previous = event.ts
        assert event.ts >= last_ts.get(ticket, -math.inf)
        last_ts[ticket] = event.ts
        moved = transition(status.get(ticket), ACTION_OF[event.type])
        assert not isinstance(moved, Refusal), (event.type, status.get(ticket))
        assert moved.event is event.type
        status[ticket] = moved.status
        kind, at = event.type, datetime.fromtimestamp(event.ts, UTC)
        if kind in (EventType.issued, EventType.transferred):
            if kind is EventType.transferred:
                del holds[held_by.pop(ticket)]
            assert event.to_service_id is not None
            service[ticket] = names[event.to_service_id]
            visited.setdefault(ticket, []).append(service[ticket])
        if kind in (EventType.issued, EventType.transferred, EventType.requeued):
            joined = queue_key(at, event.ticket.priority, leads[service[ticket]])
            waiting[service[ticket]][ticket] = (joined, order[ticket])
        elif kind is EventType.called:
            assert event.counter_id is not None
            counter = counter_names[event.counter_id]
            assert event.counter_id not in holds, "a counter holds one ticket at a time"
            holds[event.counter_id] = ticket
            held_by[ticket] = event.counter_id
            assert any(start <= event.ts < end for start, end in hours[counter]), (
                f"{counter} called at {at} while paused or closed"
            )
            mine = waiting[service[ticket]].pop(ticket)
            for other in clinic.counter_services[counter]:
                for theirs in waiting[other].values():
                    assert mine <= theirs, "called before a ticket with a smaller queue_key"
        elif kind in (EventType.completed, EventType.no_show):
            del holds[held_by.pop(ticket)]
        elif kind in (EventType.cancelled, EventType.expired):
            waiting[service[ticket]].pop(ticket, None)
            if ticket in held_by:
                del holds[held_by.pop(ticket)]
        if kind in (EventType.recalled, EventType.started):
            assert holds[event.counter_id or 0] == ticket
    assert not holds, "the sweep leaves no counter holding a ticket"
    for sim in day.tickets:
        assert status[id(sim)] in FINAL
        path = list(sim.path)
        assert visited[id(sim)] == path[: len(visited[id(sim)])], "legs follow the journey"
        if sim.status is TicketStatus.done:
            assert visited[id(sim)] == path
        assert sim.status is status[id(sim)], "the engine's status is the replayed one"


@pytest.mark.parametrize("name", ["small-puskesmas", "large-puskesmas"])
def test_every_day_keeps_the_queue_rules(name: str) -> None:
    simulated = days(name, 11, 14)
    assert len(simulated) == 12  # two Sundays closed
    for day in simulated:
        check_day(day, scenario(name).clinics[0])
    kinds = Counter(event.type for day in simulated for event in day.events)
    # Every path of the state machine was taken, so the checks above had something to check.
    assert set(kinds) == set(EventType)


def _signature(day: Day) -> list[tuple[object, ...]]:
    assert day.clinic is not None
    services = {v: k for k, v in day.clinic.services.items()}
    counters = {v: k for k, v in day.clinic.counters.items()}
    return [
        (e.ticket.code, e.ts, e.type, counters.get(e.counter_id or 0),
         services.get(e.to_service_id or 0), e.ticket.token_digest)
        for e in day.events
    ]  # fmt: skip


def test_the_same_seed_gives_the_same_days() -> None:
    again = tuple(simulate(scenario("small-puskesmas"), seed=11, days=14, start=MONDAY))
    assert [_signature(d) for d in again] == [
        _signature(d) for d in days("small-puskesmas", 11, 14)
    ]
    other = tuple(simulate(scenario("small-puskesmas"), seed=12, days=14, start=MONDAY))
    assert _signature(other[0]) != _signature(again[0])


def test_a_clinic_day_does_not_depend_on_the_other_clinics() -> None:
    small, large = scenario("small-puskesmas"), scenario("large-puskesmas")
    both = Scenario(clinics=[*large.clinics, *small.clinics])
    alone = [_signature(d) for d in days("small-puskesmas", 11, 3)]
    together = simulate(both, seed=11, days=3, start=MONDAY)
    assert [_signature(d) for d in together if d.clinic and d.clinic.code == "PKM-KECIL"] == alone


def test_arrivals_and_shares_follow_the_scenario() -> None:
    plan = scenario("large-puskesmas").clinics[0]
    simulated = days("large-puskesmas", 5, 35)
    tickets = [t for day in simulated for t in day.tickets]
    expected = sum(
        sum(plan.arrivals_per_hour.values()) * plan.load_on(day.visit_date.weekday())
        for day in simulated
        if day.visit_date
    )
    assert abs(len(tickets) - expected) < 4 * math.sqrt(expected)
    # Per local hour, the walk-ins (phone tickets are taken earlier): Poisson counts.
    zone = ZoneInfo(plan.timezone)
    walk_in = Counter(
        datetime.fromtimestamp(t.issued_ts, zone).hour
        for t in tickets
        if t.channel is not Channel.phone
    )
    load = sum(plan.load_on(d.visit_date.weekday()) for d in simulated if d.visit_date)
    for hour, rate in plan.arrivals_per_hour.items():
        mean = rate * load * (1 - plan.shares.phone)
        assert abs(walk_in[int(hour)] - mean) < 4 * math.sqrt(mean), hour
    assert set(walk_in) <= {int(hour) for hour in plan.arrivals_per_hour}

    def near(count: int, total: int, share: float) -> bool:
        return abs(count / total - share) < 4 * math.sqrt(share * (1 - share) / total)

    n = len(tickets)
    assert near(sum(t.priority is not Priority.none for t in tickets), n, plan.shares.priority)
    phone = [t for t in tickets if t.channel is Channel.phone]
    assert near(len(phone), n, plan.shares.phone)
    cancelled = sum(t.status is TicketStatus.cancelled for t in phone)
    assert cancelled <= len(phone) * plan.shares.cancel * 1.5
    journeys = Counter(t.path for t in tickets)
    for journey in plan.journeys:
        assert near(journeys[tuple(journey.path)], n, journey.share), journey.path
    # No-shows: the first call of each leg of a walk-in who was not requeued on it.
    firsts = marked = 0
    for day in simulated:
        called: set[tuple[int, int]] = set()
        for event in day.events:
            ticket = event.ticket
            if ticket.channel is Channel.phone:
                continue
            leg = (id(ticket), event.leg)
            if event.type is EventType.called and leg not in called:
                called.add(leg)
                firsts += 1
            elif event.type is EventType.no_show:
                marked += 1
    assert near(marked, firsts, plan.shares.no_show)


class Recorder:
    def __init__(self) -> None:
        self.joins: list[tuple[float, SimTicket, int]] = []
        self.events: list[SimEvent] = []

    def on_join(self, view: ClinicView, ticket: SimTicket) -> None:
        queue = view.service_of(ticket)
        position = queue.position(ticket)
        in_order = queue.in_call_order()
        assert in_order[position].ticket is ticket
        assert all(w.key_ts <= ticket.key_ts for w in in_order[:position])
        self.joins.append((view.now, ticket, position))

    def on_event(self, view: ClinicView, event: SimEvent) -> None:
        assert view.now == event.ts
        self.events.append(event)


def test_observers_see_every_join_and_event() -> None:
    recorder = Recorder()

    def estimate(view: ClinicView, ticket: SimTicket) -> int | None:
        queue = view.service_of(ticket)
        return round(queue.position(ticket) * queue.mean_minutes)

    simulated = list(simulate(scenario("small-puskesmas"), seed=3, days=2, start=MONDAY,
                              observers=[recorder], estimate_at_issue=estimate))  # fmt: skip
    events = [event for day in simulated for event in day.events]
    assert recorder.events == events
    joins = [e for e in events if e.type in (EventType.issued, EventType.transferred,
                                              EventType.requeued)]  # fmt: skip
    assert [(at, ticket) for at, ticket, _ in recorder.joins] == [(e.ts, e.ticket) for e in joins]
    issued_positions = {id(t): p for at, t, p in recorder.joins if at == t.issued_ts}
    for day in simulated:
        for ticket in day.tickets:
            mean = scenario("small-puskesmas").clinics[0].services[0].service_minutes.mean
            assert ticket.estimate_at_issue_min == round(issued_positions[id(ticket)] * mean)


def test_each_leg_records_its_wait_to_the_first_call() -> None:
    for day in days("large-puskesmas", 11, 3):
        for ticket in day.tickets:
            mine = [e for e in day.events if e.ticket is ticket]
            waits: list[float | None] = []
            began = 0.0
            for event in mine:
                if event.type in (EventType.issued, EventType.transferred):
                    began = event.ts
                    waits.append(None)
                elif event.type is EventType.called and waits[-1] is None:
                    waits[-1] = event.ts - began
            assert ticket.waits == waits
