"""A scenario's clinic as rows of the directory, made by the directory's own functions.

`build_clinic(engine, plan)` gives the clinic its services (prefix, target wait, priority lead,
usual service time; an entry service is one a journey starts with), its counters with the
services they call from, a staff account per counter and a kiosk, and returns the `SimClinic`
with their real ids, for the simulator's events to refer to. It finds by clinic code, service
prefix, counter name, username and device kind whatever an earlier call made and makes only
what is missing, so calling it again (the demo does, on every start) changes nothing.
"""

import re

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.auth.passwords import hash_password
from app.db import open_session
from app.directory import clinics, counters, devices, services, users
from app.models import Clinic, Counter, Device, DeviceKind, Role, Service, User
from app.models.clinic import ClinicCreate
from app.models.counter import CounterCreate
from app.models.device import DeviceCreate
from app.models.service import ServiceCreate
from app.models.user import UserCreate
from app.sim.record import SimClinic
from app.sim.scenario import ClinicPlan

STAFF_PASSWORD = "antrean-sim"
KIOSK_NAME = "Kiosk pintu masuk"
# Who creates the accounts: the directory asks for an admin (no row needed).
_ADMIN = User(username="sim", password_hash="", role=Role.admin)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def staff_username(code: str, counter: str) -> str:
    """`pkm-klandasan.loket-1`: the clinic's code and the counter's name, as a username may
    be spelt."""
    return f"{_slug(code)}.{_slug(counter)}"[:64]


def build_clinic(
    engine: Engine, plan: ClinicPlan, *, staff_password: str = STAFF_PASSWORD
) -> SimClinic:
    """The clinic's rows, made if missing, and its `SimClinic` (the staff of a counter made
    here sign in with `staff_password`)."""
    with open_session(engine, write=True) as session:
        clinic = _clinic(session, plan)
        assert clinic.id is not None
        found = SimClinic(
            id=clinic.id, code=clinic.code, timezone=clinic.timezone, name=clinic.name
        )
        _services(session, plan, found)
        _counters(session, plan, found, staff_password)
        found.kiosk = _kiosk(session, clinic.id)
        session.commit()
    return found


def _clinic(session: Session, plan: ClinicPlan) -> Clinic:
    wanted = ClinicCreate(code=plan.code, name=plan.name or plan.code, timezone=plan.timezone)
    existing = session.exec(select(Clinic).where(col(Clinic.code) == wanted.code)).first()
    return existing or clinics.create_clinic(session, wanted)


def _services(session: Session, plan: ClinicPlan, found: SimClinic) -> None:
    entries = {journey.path[0] for journey in plan.journeys}
    existing = {
        service.prefix: service
        for service in session.exec(select(Service).where(col(Service.clinic_id) == found.id))
    }
    for service_plan in plan.services:
        service = existing.get(service_plan.prefix.upper()) or services.create_service(
            session,
            found.id,
            ServiceCreate(
                name=service_plan.name,
                prefix=service_plan.prefix,
                entry=service_plan.name in entries,
                target_wait_minutes=service_plan.target_wait_minutes,
                priority_lead_minutes=service_plan.priority_lead_minutes,
                default_service_minutes=max(1, round(service_plan.service_minutes.mean)),
            ),
        )
        assert service.id is not None
        found.services[service_plan.name] = service.id
        found.prefixes[service_plan.name] = service.prefix
        found.targets[service_plan.name] = service.target_wait_minutes
        found.lead_minutes[service_plan.name] = service.priority_lead_minutes


def _counters(session: Session, plan: ClinicPlan, found: SimClinic, password: str) -> None:
    existing = {
        counter.name: counter
        for counter in session.exec(select(Counter).where(col(Counter.clinic_id) == found.id))
    }
    password_hash: str | None = None
    for name, (_, served) in plan.counter_plans().items():
        counter = existing.get(name)
        if counter is None:
            made = counters.create_counter(
                session,
                found.id,
                CounterCreate(name=name, service_ids=[found.services[s] for s in served]),
            )
            counter_id = made.id
        else:
            assert counter.id is not None
            counter_id = counter.id
        found.counters[name] = counter_id
        found.counter_services[name] = served
        username = staff_username(found.code, name)
        user = session.exec(select(User).where(col(User.username) == username)).first()
        if user is None:
            password_hash = password_hash or hash_password(password)
            user = users.create_user(
                session,
                UserCreate(
                    username=username, password=password, role=Role.staff, clinic_id=found.id
                ),  # fmt: skip
                by=_ADMIN,
                password_hash=password_hash,
            )
        assert user.id is not None
        found.staff[counter_id] = user.id


def _kiosk(session: Session, clinic_id: int) -> int:
    kiosk = session.exec(
        select(Device)
        .where(col(Device.clinic_id) == clinic_id, col(Device.kind) == DeviceKind.kiosk)
        .order_by(col(Device.id))
    ).first()
    if kiosk is not None:
        assert kiosk.id is not None
        return kiosk.id
    return devices.create_device(
        session, clinic_id, DeviceCreate(name=KIOSK_NAME, kind=DeviceKind.kiosk)
    ).id
