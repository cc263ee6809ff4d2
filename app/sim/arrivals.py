"""Who comes to a clinic on a day: a non-homogeneous Poisson process of patients.

Arrivals follow the scenario's mean per local hour (times the weekday's load), a constant rate
within each hour. Each patient draws a journey, a priority and a channel: a phone ticket is
taken some minutes before the patient arrives, and a share of phone patients cancel before
they come (they never arrive); the others take a ticket at the kiosk, a few at the desk.
"""

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from app.models import Channel, Priority
from app.sim.sampling import Picker, local_ts
from app.sim.scenario import ClinicPlan

# Who among priority patients (pelayanan khusus) comes, roughly as puskesmas see them.
PRIORITY_KINDS = Picker(
    [(Priority.elderly, 8), (Priority.child, 6), (Priority.pregnant, 4), (Priority.disabled, 1)]
)


@dataclass(slots=True)
class Patient:
    issue_ts: float  # when the ticket is taken
    arrive_ts: float  # when the patient is in the waiting room (inf: never comes)
    path: tuple[str, ...]
    priority: Priority
    channel: Channel
    cancel_ts: float | None  # a phone ticket cancelled before arriving
    token_digest: str


def arrival_times(plan: ClinicPlan, day: date, zone: ZoneInfo, rng: random.Random) -> list[float]:
    """Epoch seconds of the day's arrivals, in order."""
    load = plan.load_on(day.weekday())
    times: list[float] = []
    for hour, rate in plan.arrivals_per_hour.items():
        per_second = rate * load / 3600
        if per_second <= 0:
            continue
        start = local_ts(day, int(hour) * 60, zone)
        offset = rng.expovariate(per_second)
        while offset < 3600:
            times.append(round(start + offset, 3))
            offset += rng.expovariate(per_second)
    return times


def patients(
    plan: ClinicPlan, journeys: Picker[tuple[str, ...]], day: date, zone: ZoneInfo,
    rng: random.Random,
) -> list[Patient]:  # fmt: skip
    """The day's patients in the order their tickets are taken."""
    shares = plan.shares
    lead = plan.phone_lead_minutes
    midnight = local_ts(day, 0, zone)
    found = []
    for arrive in arrival_times(plan, day, zone, rng):
        path = journeys(rng)
        priority = PRIORITY_KINDS(rng) if rng.random() < shares.priority else Priority.none
        issue, cancel = arrive, None
        if rng.random() < shares.phone:
            channel = Channel.phone
            issue = round(max(arrive - 60 * rng.uniform(lead.min, lead.max), midnight + 1), 3)
            if rng.random() < shares.cancel:
                cancel = round(issue + rng.random() * (arrive - issue), 3)
                arrive = math.inf
        elif rng.random() < shares.staff:
            channel = Channel.staff
        else:
            channel = Channel.kiosk
        token = hashlib.sha256(rng.randbytes(32)).hexdigest()
        found.append(Patient(issue, arrive, path, priority, channel, cancel, token))
    found.sort(key=lambda patient: patient.issue_ts)
    return found
