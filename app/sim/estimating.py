"""Wait estimators driven by the simulator: the service's own (app/queueing/estimate.py, the same
function) and three references, each asked at the moment a ticket joins a queue.

`Estimators` is an observer of simulated clinic-days (app/sim/view.py). It keeps, per service,
what the service keeps on its day row (the pace, moved by each call and each served leg) and,
per clinic, the leg figures the service's rollups would hold (for the usual pace of a weekday
and hour), fed only by the events: it sees nothing the service could not. The counters it
gives the estimator are those configured for the service, as the service knows them (no
open/paused flag: what the counters do shows in the pace), a counter shared by k services
counting as 1/k for each, as the service counts them.

The references, in whole minutes like the service's:

- `position_x_mean`: position x the scenario's mean service time / the service's counters;
- `last_to_enter`: the wait of the service's ticket called most recently (0 before any);
- `rolling`: the service's estimator before December 2026, position x the moving mean of
  today's service times / counters (app/queueing/estimate.rolling_estimate).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.models import EventType, Priority
from app.queueing.estimate import (
    Pace,
    Usual,
    called,
    emptied,
    estimated_wait_minutes,
    joined,
    rolling_estimate,
    served,
)
from app.queueing.estimate_history import (
    WEEKS,
    same_weekday_or_any,
    usual_opening,
    usual_table,
)
from app.queueing.localday import zone
from app.queueing.numbering import MEAN_WEIGHT
from app.sim.record import SimEvent, SimTicket
from app.sim.view import ClinicView

NAMES = ("antrean", "position_x_mean", "last_to_enter", "rolling")
SERVED = frozenset({EventType.completed, EventType.transferred})


@dataclass
class Estimate:
    """The four estimates given to one leg as it joined its queue (minutes), and its wait."""

    ticket: SimTicket
    leg: int
    by_issue: bool
    minutes: dict[str, int]

    @property
    def actual_minutes(self) -> float | None:
        wait = self.ticket.waits[self.leg - 1]
        return None if wait is None else wait / 60


@dataclass
class _Service:
    """What the service keeps for one of its services today."""

    pace: Pace = field(default_factory=Pace)
    last_wait: float = 0.0  # seconds, of the ticket called last


@dataclass
class _Clinic:
    day: date | None = None
    services: dict[int, _Service] = field(default_factory=dict)
    # (visit_date, hour, service_id, counter_id) -> [served legs timed, their seconds]
    rollups: dict[tuple[date, int, int, int], list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0.0])
    )
    usual: dict[tuple[int, int], Usual] = field(default_factory=dict)
    entered: dict[tuple[int, int], float] = field(default_factory=dict)  # (ticket, leg) -> ts
    # (visit_date, service_id) -> the day's first call (epoch seconds), and today's usual one
    first_calls: dict[tuple[date, int], float] = field(default_factory=dict)
    opens: dict[int, float] = field(default_factory=dict)


class Estimators:
    """Observer of simulated days that estimates every join with the four estimators."""

    def __init__(self) -> None:
        self.clinics: dict[int, _Clinic] = {}
        self.estimates: list[Estimate] = []
        self.issuing: SimTicket | None = None  # estimated at issue, its on_join still to come

    # --- the engine's hooks ---------------------------------------------------------------

    def estimate_at_issue(self, view: ClinicView, ticket: SimTicket) -> int | None:
        # The service counts a ticket's join in the statement that numbers it, before its
        # estimate: so here (on_join, which follows, then leaves it).
        self._join(view, ticket)
        self.issuing = ticket
        estimate = self._estimate(view, ticket, by_issue=True)
        return estimate.minutes["antrean"]

    def on_join(self, view: ClinicView, ticket: SimTicket) -> None:
        if self.issuing is ticket:
            self.issuing = None
            return  # just issued: joined and estimated already
        clinic = self._clinic(view)
        new_leg = (ticket.id, ticket.leg) not in clinic.entered
        self._join(view, ticket)
        if new_leg:  # transferred in; a requeue goes on with its leg (its wait measured)
            self._estimate(view, ticket, by_issue=False)

    def on_event(self, view: ClinicView, event: SimEvent) -> None:
        clinic = self._clinic(view)
        if event.type is EventType.called:
            queue = view.service_of(event.ticket)
            state = self._service(clinic, queue.id)
            if state.pace.last_call_at is None:
                clinic.first_calls[(view.visit_date, queue.id)] = view.now
            state.pace = called(state.pace, at=view.now, waiting_after=queue.waiting)
            wait = event.ticket.waits[event.leg - 1]
            if wait is not None:
                state.last_wait = wait
        elif event.type in SERVED:
            self._served(view, clinic, event)
        elif event.type is EventType.cancelled:
            queue = view.service_of(event.ticket)
            if queue.waiting <= 0:
                state = self._service(clinic, queue.id)
                state.pace = emptied(state.pace)

    # --- what the service keeps -----------------------------------------------------------

    def _join(self, view: ClinicView, ticket: SimTicket) -> None:
        clinic = self._clinic(view)
        state = self._service(clinic, view.service_of(ticket).id)
        state.pace = joined(state.pace, at=view.now, priority=ticket.priority is not Priority.none)
        clinic.entered.setdefault((ticket.id, ticket.leg), view.now)

    def _clinic(self, view: ClinicView) -> _Clinic:
        clinic = self.clinics.setdefault(view.clinic.id, _Clinic())
        if clinic.day != view.visit_date:  # a new day: yesterday's pace is gone
            clinic.day = view.visit_date
            clinic.services = {}
            clinic.entered = {}
            clinic.usual = self._usual(clinic, view.visit_date)
            first_day = view.visit_date - timedelta(weeks=WEEKS)
            firsts = [(d, sid, ts) for (d, sid), ts in clinic.first_calls.items() if d >= first_day]
            clinic.opens = usual_opening(
                same_weekday_or_any(firsts, view.visit_date),
                view.visit_date,
                view.clinic.timezone,
            )
        return clinic

    @staticmethod
    def _usual(clinic: _Clinic, visit_date: date) -> dict[tuple[int, int], Usual]:
        weeks = {visit_date - timedelta(weeks=n) for n in range(1, WEEKS + 1)}
        rows = [(*key, n, total) for key, (n, total) in clinic.rollups.items() if key[0] in weeks]
        return usual_table(rows)

    @staticmethod
    def _service(clinic: _Clinic, service_id: int) -> _Service:
        return clinic.services.setdefault(service_id, _Service())

    def _served(self, view: ClinicView, clinic: _Clinic, event: SimEvent) -> None:
        queue = next(q for q in view.services.values() if q.id == event.service_id)
        if not queue.finished:
            return
        leg = queue.finished[-1]
        seconds = leg.service_seconds
        state = self._service(clinic, queue.id)
        state.pace = served(state.pace, seconds=seconds, weight=MEAN_WEIGHT)
        entered = clinic.entered.get((event.ticket.id, event.leg), leg.called_ts)
        hour = _local_hour(view, entered)
        row = clinic.rollups[(view.visit_date, hour, queue.id, leg.counter_id)]
        row[0] += 1
        row[1] += seconds

    # --- the four estimates ---------------------------------------------------------------

    def _estimate(self, view: ClinicView, ticket: SimTicket, *, by_issue: bool) -> Estimate:
        clinic = self._clinic(view)
        queue = view.service_of(ticket)
        state = self._service(clinic, queue.id)
        position = queue.position(ticket)
        counters = len(queue.counters)
        # The service's estimator counts a counter shared by k services as 1/k of one.
        shared = sum(1 / len(counter.queues) for counter in queue.counters)
        usual = clinic.usual.get((queue.id, _local_hour(view, view.now)))
        mean_today = state.pace.service_seconds
        minutes = {
            "antrean": estimated_wait_minutes(
                position,
                now=view.now,
                pace=state.pace,
                counters=shared,
                usual=usual,
                default_service_minutes=queue.mean_minutes,
                priority=ticket.priority is not Priority.none,
                lead_minutes=queue.lead_minutes,
                opens_at=clinic.opens.get(queue.id),
            ),
            "position_x_mean": math.ceil(position * queue.mean_minutes / max(counters, 1)),
            "last_to_enter": round(state.last_wait / 60),
            "rolling": rolling_estimate(
                position,
                queue.mean_minutes if mean_today is None else mean_today / 60,
                counters,
            ),
        }
        estimate = Estimate(ticket, ticket.leg, by_issue, minutes)
        self.estimates.append(estimate)
        return estimate


def _local_hour(view: ClinicView, ts: float) -> int:
    return datetime.fromtimestamp(ts, UTC).astimezone(zone(view.clinic.timezone)).hour
