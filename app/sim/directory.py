"""Synthetic ids for a scenario's clinics, as a database would number their rows."""

from app.sim.record import SimClinic
from app.sim.scenario import ClinicPlan, Scenario


def synthetic_clinic(
    plan: ClinicPlan, clinic_id: int, start: dict[str, int] | None = None
) -> SimClinic:
    """`start`: the last id used so far per kind (service, counter, user, device); advanced."""
    last = start if start is not None else {}

    def next_id(kind: str) -> int:
        last[kind] = last.get(kind, 0) + 1
        return last[kind]

    clinic = SimClinic(id=clinic_id, code=plan.code, timezone=plan.timezone, name=plan.name or "")
    for service in plan.services:
        clinic.services[service.name] = next_id("service")
        clinic.prefixes[service.name] = service.prefix
        clinic.targets[service.name] = service.target_wait_minutes
        clinic.lead_minutes[service.name] = service.priority_lead_minutes
    for name, (_, served) in plan.counter_plans().items():
        counter_id = clinic.counters[name] = next_id("counter")
        clinic.counter_services[name] = served
        clinic.staff[counter_id] = next_id("user")
    clinic.kiosk = next_id("device")
    return clinic


def synthetic_clinics(scenario: Scenario) -> list[SimClinic]:
    """Clinics numbered 1..n, their services, counters, staff and kiosks each from 1 up."""
    last: dict[str, int] = {}
    return [synthetic_clinic(plan, index, last) for index, plan in enumerate(scenario.clinics, 1)]
