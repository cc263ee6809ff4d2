"""A past for clinics that have none: simulated days before today, loaded as the service keeps
them (tickets, events, legs, rollups), so dashboards and reports have something true to show."""

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import col, select

from app.db import open_session
from app.models import Ticket
from app.sim.engine import simulate
from app.sim.estimating import Estimators
from app.sim.load import load_days
from app.sim.record import SimClinic
from app.sim.scenario import ClinicPlan, Scenario


@dataclass(frozen=True)
class History:
    first_day: date
    days: int
    tickets: int
    events: int
    seconds: float


def local_today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def has_history(engine: Engine, clinics: list[SimClinic], before: date) -> bool:
    with open_session(engine, write=False) as session:
        found = session.exec(
            select(Ticket.id)
            .where(
                col(Ticket.clinic_id).in_([clinic.id for clinic in clinics]),
                col(Ticket.visit_date) < before,
            )
            .limit(1)
        ).first()
    return found is not None


def load_history(
    engine: Engine,
    plans: list[ClinicPlan],
    clinics: list[SimClinic],
    *,
    days: int,
    seed: int,
    today: date | None = None,
    estimates: bool = False,
) -> History | None:
    """Simulate the `days` calendar days before today for `clinics` (built from `plans`, in the
    same order) and load them; nothing when any of them already has a ticket before today.
    With `estimates`, each ticket keeps the estimate the service's own estimator would have
    given at issue (it doubles the simulation's time, so the demo, which must start fast,
    goes without)."""
    today = today or local_today(clinics[0].timezone)
    if days <= 0 or has_history(engine, clinics, today):
        return None
    began = time.perf_counter()
    first_day = today - timedelta(days=days)
    estimators = Estimators() if estimates else None
    record = simulate(
        Scenario(clinics=plans),
        seed=seed,
        days=days,
        start=first_day,
        clinics=clinics,
        observers=[estimators] if estimators else [],
        estimate_at_issue=estimators.estimate_at_issue if estimators else None,
    )
    loaded = load_days(engine, clinics, record)
    return History(first_day, days, loaded.tickets, loaded.events, time.perf_counter() - began)
