"""Figures of a simulated clinic-day, read from its event log alone."""

import math
from dataclasses import dataclass, field
from datetime import date

from app.models import EventType
from app.sim.record import Day


@dataclass
class Waits:
    """Waits of one service's legs (from joining the queue to the first call), in minutes."""

    legs: int = 0  # legs that began at this service
    called: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        return sum(self.called) / len(self.called) if self.called else None

    @property
    def p90(self) -> float | None:
        return percentile(self.called, 0.9)


@dataclass
class DaySummary:
    clinic: str
    visit_date: date
    issued: int = 0
    done: int = 0
    cancelled: int = 0
    expired: int = 0
    no_show_marks: int = 0  # no_show events
    requeued: int = 0
    transfers: int = 0
    events: int = 0
    waits: dict[str, Waits] = field(default_factory=dict)  # by service name

    def as_json(self) -> dict[str, object]:
        return {
            "clinic": self.clinic,
            "date": self.visit_date.isoformat(),
            "issued": self.issued,
            "done": self.done,
            "cancelled": self.cancelled,
            "expired": self.expired,
            "no_show_marks": self.no_show_marks,
            "requeued": self.requeued,
            "transfers": self.transfers,
            "events": self.events,
            "waits": {
                name: {"legs": w.legs, "called": len(w.called), "mean_min": _r(w.mean),
                       "p90_min": _r(w.p90)}
                for name, w in self.waits.items()
            },
        }  # fmt: skip


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize(day: Day) -> DaySummary:
    assert day.clinic is not None
    assert day.visit_date is not None
    names = {service_id: name for name, service_id in day.clinic.services.items()}
    found = DaySummary(day.clinic.code, day.visit_date, events=len(day.events))
    found.waits = {name: Waits() for name in day.clinic.services}
    # ticket -> (service id of its current leg, when the leg began, called yet)
    legs: dict[int, tuple[int, float, bool]] = {}
    for event in day.events:
        ticket = id(event.ticket)
        kind = event.type
        if kind is EventType.issued or kind is EventType.transferred:
            assert event.to_service_id is not None
            legs[ticket] = (event.to_service_id, event.ts, False)
            found.waits[names[event.to_service_id]].legs += 1
            if kind is EventType.issued:
                found.issued += 1
            else:
                found.transfers += 1
        elif kind is EventType.called:
            service_id, began, called = legs[ticket]
            if not called:
                found.waits[names[service_id]].called.append((event.ts - began) / 60)
                legs[ticket] = (service_id, began, True)
        elif kind is EventType.completed:
            found.done += 1
        elif kind is EventType.cancelled:
            found.cancelled += 1
        elif kind is EventType.expired:
            found.expired += 1
        elif kind is EventType.no_show:
            found.no_show_marks += 1
        elif kind is EventType.requeued:
            found.requeued += 1
    return found
