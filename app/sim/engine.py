"""The simulator's event loop: one clinic-day on a simulated clock.

Patients take tickets (app/sim/arrivals.py); counters open, pause and close by their hours and
call the next ticket among all the services they serve by the real priority rule
(app.queueing.priority.queue_key, ties by issue order); a called patient is served (a start
for most, then a transfer along the journey or the completion), or is not there: recalled, then
marked no-show, and some come back and are requeued; a share of phone tickets is cancelled; the
local midnight sweep expires what is left. Every status change is the state machine's own
answer (app.queueing.states.step): the engine keeps a ticket's status only by applying it.
"""

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from app.models import Channel, TicketStatus
from app.queueing.numbering import ticket_code
from app.queueing.states import Action, step
from app.sim.arrivals import Patient, patients
from app.sim.directory import synthetic_clinics
from app.sim.model import ClinicModel
from app.sim.record import Day, SimClinic, SimEvent, SimTicket
from app.sim.sampling import day_rng, local_ts, lognormal
from app.sim.scenario import Scenario
from app.sim.state import Counter, CounterState, FinishedLeg, Queue
from app.sim.view import ClinicView, EstimateAtIssue, Observer

OPEN = CounterState.open
WAITING = TicketStatus.waiting
NO_SHOW = TicketStatus.no_show
STILL_OPEN = frozenset(
    {TicketStatus.waiting, TicketStatus.called, TicketStatus.serving, TicketStatus.no_show}
)


class ClinicDay:
    """The state and the loop of one clinic-day."""

    def __init__(self, model: ClinicModel, visit_date: date, seed: int,
                 observers: Sequence[Observer] = (),
                 estimate_at_issue: EstimateAtIssue | None = None) -> None:  # fmt: skip
        plan, clinic = model.plan, model.clinic
        self.model = model
        self.shares = plan.shares
        self.rng = day_rng(seed, plan.code, visit_date, "serve")
        self.day = Day(clinic=clinic, visit_date=visit_date)
        self.queues: dict[str, Queue] = {}
        for service in plan.services:
            mu, sigma = lognormal(service.service_minutes.mean, service.service_minutes.sd)
            self.queues[service.name] = Queue(
                service.name, clinic.services[service.name], service.priority_lead_minutes,
                service.service_minutes.mean, mu, sigma,
            )  # fmt: skip
        self.counters: dict[int, Counter] = {}
        for name, (hours, served) in model.counters.items():
            counter_id = clinic.counters[name]
            counter = model.counter(name, hours, visit_date)
            self.counters[counter_id] = counter
            for service_name in served:
                counter.queues.append(self.queues[service_name])
                self.queues[service_name].counters.append(counter)
        # A patient coming back after a no-show is requeued only while someone still calls.
        self.last_close = {
            name: max((c.close_ts for c in queue.counters), default=-math.inf)
            for name, queue in self.queues.items()
        }
        self.view = ClinicView(clinic, visit_date, list(self.queues.values()),
                               list(self.counters.values()))  # fmt: skip
        self.observers = tuple(observers)
        self.estimate = estimate_at_issue
        self.heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self.pushes = 0
        self.now = 0.0
        self.over = False
        self.issued = 0
        self.numbers: dict[str, int] = {}
        arrivals = day_rng(seed, plan.code, visit_date, "arrive")
        for patient in patients(plan, model.journeys, visit_date, model.zone, arrivals):
            self._at(patient.issue_ts, self._issue, patient)
        for counter in self.counters.values():
            self._at(counter.open_ts, self._open, counter)
            for start, end in counter.pauses:
                self._at(start, self._pause, counter)
                self._at(end, self._open, counter)
            self._at(counter.close_ts, self._close, counter)
        midnight = local_ts(visit_date + timedelta(days=1), 0, model.zone)
        self._at(round(midnight + self.rng.uniform(1, 30), 3), self._sweep, None)

    def run(self) -> Day:
        heap, view = self.heap, self.view
        while heap and not self.over:
            ts, _, handler, subject = heapq.heappop(heap)
            self.now = view.now = ts
            handler(subject)
        return self.day

    # --- the mechanics ------------------------------------------------------------------

    def _at(self, ts: float, handler: Callable[[Any], None], subject: Any) -> None:
        self.pushes += 1
        heapq.heappush(self.heap, (ts, self.pushes, handler, subject))

    def _apply(self, ticket: SimTicket, action: Action, counter: int | None = None,
               user: int | None = None, device: int | None = None,
               to_service: int | None = None) -> SimEvent:  # fmt: skip
        """The state machine's answer applied to the ticket, and the event it logs."""
        moved = step(ticket.status, action)
        ticket.status = moved.status
        day = self.day
        day.order += 1
        event = SimEvent(ticket, self.now, moved.event, day.order, counter, user, device,
                         to_service)  # fmt: skip
        day.events.append(event)
        return event

    def _told(self, event: SimEvent) -> None:
        for observer in self.observers:
            observer.on_event(self.view, event)

    def _join(self, ticket: SimTicket, queue: Queue) -> None:
        queue.push(ticket, self.now)
        for observer in self.observers:
            observer.on_join(self.view, ticket)

    def _offer(self, queue: Queue) -> None:
        """The counter of this queue idle the longest, if any, calls."""
        chosen = None
        for counter in queue.counters:
            if counter.held is None and counter.state is OPEN:
                if chosen is None or counter.idle_since < chosen.idle_since:
                    chosen = counter
        if chosen is not None:
            self._next(chosen)

    def _next(self, counter: Counter) -> None:
        """An open, free counter calls the first ticket among all the queues it serves."""
        if counter.state is not OPEN or counter.held is not None:
            return
        best: list[Any] | None = None
        best_queue = None
        for queue in counter.queues:
            head = queue.head()
            if head is not None and (
                best is None or head[0] < best[0] or (head[0] == best[0] and head[1] < best[1])
            ):
                best, best_queue = head, queue
        if best is None or best_queue is None:
            counter.idle_since = self.now
            return
        ticket: SimTicket = best[3]
        best_queue.take(ticket)
        self._call(counter, ticket, best_queue)

    def _call(self, counter: Counter, ticket: SimTicket, queue: Queue) -> None:
        now, rng, shares = self.now, self.rng, self.shares
        event = self._apply(ticket, Action.call, counter.id, counter.user_id)
        ticket.counter_id = counter.id
        counter.held, counter.called_ts, counter.started_ts = ticket, now, None
        if ticket.waits[-1] is None:
            ticket.waits[-1] = now - ticket.entered_ts
        self._told(event)
        plan: list[tuple[float, Action]] = []
        at = now
        if now >= ticket.arrive_ts and (ticket.requeued or rng.random() >= shares.no_show):
            if rng.random() < shares.recall:  # slow to come to the counter
                at += rng.uniform(30, 90)
                plan.append((round(at, 3), Action.recall))
            at += rng.uniform(10, 40)
            if rng.random() < shares.start:
                plan.append((round(at, 3), Action.start))
            at += 60 * rng.lognormvariate(queue.mu, queue.sigma)
            last = ticket.leg == len(ticket.path)
            plan.append((round(at, 3), Action.complete if last else Action.transfer))
        else:
            for _ in range(rng.randrange(3)):
                at += rng.uniform(45, 90)
                plan.append((round(at, 3), Action.recall))
            at += rng.uniform(60, 120)
            plan.append((round(at, 3), Action.no_show))
        plan.reverse()
        counter.plan = plan
        self._at(plan[-1][0], self._step, counter)

    # --- what happens ---------------------------------------------------------------------

    def _issue(self, patient: Patient) -> None:
        clinic = self.model.clinic
        self.issued += 1
        ticket = SimTicket(clinic, self.view.visit_date, patient.path, patient.priority,
                           patient.channel, self.now, patient.token_digest,
                           self.issued)  # fmt: skip
        ticket.id = self.issued
        entry = patient.path[0]
        ticket.number = self.numbers[entry] = self.numbers.get(entry, 0) + 1
        ticket.code = ticket_code(ticket.prefix, ticket.number)
        ticket.arrive_ts = patient.arrive_ts
        ticket.leg = 1
        ticket.waits.append(None)
        queue = self.queues[entry]
        if patient.channel is Channel.kiosk:
            event = self._apply(ticket, Action.issue, None, None, clinic.kiosk, queue.id)
        elif patient.channel is Channel.staff:
            user = self.model.desk_user[entry]
            event = self._apply(ticket, Action.issue, None, user, None, queue.id)
        else:
            event = self._apply(ticket, Action.issue, to_service=queue.id)
        self.day.tickets.append(ticket)
        queue.push(ticket, self.now)
        if self.estimate is not None:
            ticket.estimate_at_issue_min = self.estimate(self.view, ticket)
        for observer in self.observers:
            observer.on_join(self.view, ticket)
        self._told(event)
        if patient.cancel_ts is not None:
            self._at(patient.cancel_ts, self._cancel, ticket)
        self._offer(queue)

    def _step(self, counter: Counter) -> None:
        """The next thing that happens to the ticket the counter holds."""
        _, action = counter.plan.pop()
        ticket = counter.held
        assert ticket is not None
        if action is Action.no_show:
            event = self._apply(ticket, action, counter.id, counter.user_id)
            self._release(counter)
            self._told(event)
            self._maybe_back(ticket)
            self._next(counter)
        elif action is Action.complete or action is Action.transfer:
            self._end_leg(counter, ticket, action)
        else:
            if action is Action.recall:
                ticket.recall_count += 1
            else:
                counter.started_ts = self.now
            self._told(self._apply(ticket, action, counter.id, counter.user_id))
            self._at(counter.plan[-1][0], self._step, counter)

    def _end_leg(self, counter: Counter, ticket: SimTicket, action: Action) -> None:
        queue = self.queues[ticket.path[ticket.leg - 1]]
        assert counter.called_ts is not None
        queue.finished.append(
            FinishedLeg(ticket, counter.id, counter.called_ts, counter.started_ts, self.now)
        )
        if action is Action.complete:
            event = self._apply(ticket, action, counter.id, counter.user_id)
            self._release(counter)
            self._told(event)
        else:
            following = self.queues[ticket.path[ticket.leg]]
            event = self._apply(ticket, action, counter.id, counter.user_id, None, following.id)
            self._release(counter)
            ticket.leg += 1
            ticket.service_id = following.id
            ticket.counter_id = None
            ticket.recall_count = 0
            ticket.requeued = False
            ticket.entered_ts = self.now
            ticket.waits.append(None)
            self._join(ticket, following)
            self._told(event)
            self._offer(following)
        self._next(counter)

    def _release(self, counter: Counter) -> None:
        counter.held = counter.called_ts = counter.started_ts = None
        counter.plan = []
        counter.idle_since = self.now

    def _maybe_back(self, ticket: SimTicket) -> None:
        """A phone patient called before arriving comes back when they arrive; of the rest,
        a share come back later (and are not missed a second time)."""
        if math.isinf(ticket.arrive_ts):
            return
        now = self.now
        if ticket.arrive_ts > now:
            back = ticket.arrive_ts + self.rng.uniform(0, 300)
        elif not ticket.requeued and self.rng.random() < self.shares.requeue:
            back = now + 60 * self.rng.uniform(5, 90)
        else:
            return
        if back < self.last_close[ticket.path[ticket.leg - 1]]:
            self._at(round(back, 3), self._requeue, ticket)

    def _requeue(self, ticket: SimTicket) -> None:
        if ticket.status is not NO_SHOW:
            return
        assert ticket.counter_id is not None
        user = self.model.clinic.staff[ticket.counter_id]
        event = self._apply(ticket, Action.requeue, None, user)
        ticket.counter_id = None
        ticket.requeued = True
        queue = self.queues[ticket.path[ticket.leg - 1]]
        self._join(ticket, queue)
        self._told(event)
        self._offer(queue)

    def _cancel(self, ticket: SimTicket) -> None:
        """The patient cancels from their phone, if the ticket still waits."""
        if ticket.status is not WAITING:
            return
        self.queues[ticket.path[ticket.leg - 1]].take(ticket)
        self._told(self._apply(ticket, Action.cancel))

    def _open(self, counter: Counter) -> None:
        counter.state = OPEN
        counter.idle_since = self.now
        self._next(counter)

    def _pause(self, counter: Counter) -> None:
        # A counter holding a ticket finishes it; it calls no other until it opens again.
        counter.state = CounterState.paused

    def _close(self, counter: Counter) -> None:
        counter.state = CounterState.closed

    def _sweep(self, _: None) -> None:
        """Local midnight: every ticket not yet at an end expires."""
        for ticket in self.day.tickets:
            if ticket.status in STILL_OPEN:
                held = ticket.status in (TicketStatus.called, TicketStatus.serving)
                self.queues[ticket.path[ticket.leg - 1]].take(ticket)
                event = self._apply(ticket, Action.expire, ticket.counter_id)
                if held and ticket.counter_id is not None:
                    self._release(self.counters[ticket.counter_id])
                self._told(event)
        self.over = True


def simulate_day(model: ClinicModel, visit_date: date, seed: int,
                 observers: Sequence[Observer] = (),
                 estimate_at_issue: EstimateAtIssue | None = None) -> Day | None:  # fmt: skip
    """One clinic-day, or None on a day the clinic is closed."""
    if not model.plan.open_on(visit_date.weekday()):
        return None
    return ClinicDay(model, visit_date, seed, observers, estimate_at_issue).run()


def simulate(
    scenario: Scenario,
    *,
    seed: int,
    days: int,
    start: date,
    clinics: Iterable[SimClinic] | None = None,
    observers: Sequence[Observer] = (),
    estimate_at_issue: EstimateAtIssue | None = None,
) -> Iterator[Day]:
    """Every open clinic-day of `days` calendar days from `start`, day by day, clinic by
    clinic (ids: `clinics`, in the scenario's order, or synthetic ones)."""
    directory = list(clinics) if clinics is not None else synthetic_clinics(scenario)
    models = [
        ClinicModel(plan, clinic) for plan, clinic in zip(scenario.clinics, directory, strict=True)
    ]
    for offset in range(days):
        visit_date = start + timedelta(days=offset)
        for model in models:
            day = simulate_day(model, visit_date, seed, observers, estimate_at_issue)
            if day is not None:
                yield day
