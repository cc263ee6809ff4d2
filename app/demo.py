"""`python -m app.demo`: a demo city (Balikpapan puskesmas) on SQLite, served on one port.

The city's services, counters and traffic are a simulator scenario (scenarios/
demo-balikpapan.json). On the first start the simulator gives the clinics 60 days of history,
so the health office's dashboard and reports have something true to show; then, unless switched
off, a live morning: simulated kiosks and counters act through the API at real speed, so a
display page shows numbers called and says them.

Idempotent: a second run keeps the data and only gives the demo devices fresh keys (keys are
stored as digests, so they can only be shown when made).
"""

import argparse
import asyncio
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy import Engine
from sqlmodel import col, select

from app.auth.passwords import hash_password
from app.config import Settings
from app.db import make_engine, open_session
from app.directory import clinics, devices, users
from app.directory.users import bootstrap_admin
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import Clinic, Device, DeviceKind, Role, User
from app.models.clinic import ClinicCreate
from app.models.device import DeviceCreate
from app.models.user import UserCreate
from app.observability.logs import log_config
from app.sim.history import load_history
from app.sim.live import live_clinic, run_live
from app.sim.record import SimClinic
from app.sim.scenario import load_scenario
from app.sim.seed import build_clinic

DEMO_DATABASE = "sqlite:///./antrean-demo.db"
DEMO_ADMIN = ("admin", "admin-demo")
DEMO_STAFF_PASSWORD = "antrean-demo"

CLINICS = [
    (
        "KLANDASAN-ILIR",
        "Puskesmas Klandasan Ilir",
        "Jl. Jend. Sudirman, Klandasan Ilir, Balikpapan Kota",
    ),
    ("SEPINGGAN", "Puskesmas Sepinggan", "Jl. Marsma R. Iswahyudi, Sepinggan, Balikpapan Selatan"),
    ("BATU-AMPAR", "Puskesmas Batu Ampar", "Jl. Mayjend Sutoyo, Batu Ampar, Balikpapan Utara"),
    ("GUNUNG-SARI-ILIR", "Puskesmas Gunung Sari Ilir", "Jl. Gunung Sari Ilir, Balikpapan Tengah"),
]
# The clinics' services, counters, hours and traffic: a simulator scenario (docs/simulator.md).
SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "demo-balikpapan.json"
HISTORY_DAYS = 60
HISTORY_SEED = 20261207


@dataclass
class DemoClinic:
    clinic: Clinic
    kiosk_key: str
    display_key: str
    sim: SimClinic


def _seed_clinic(engine: Engine, code: str, name: str, address: str, admin: User) -> Clinic:
    with open_session(engine, write=True) as session:
        clinic = session.exec(select(Clinic).where(col(Clinic.code) == code)).first()
        if clinic is not None:
            return clinic
        clinic = clinics.create_clinic(
            session,
            ClinicCreate(
                code=code, name=name, address=address, opening_hours="Senin–Sabtu 07.30–14.00"
            ),
        )
        assert clinic.id is not None
        slug = code.lower()
        password_hash = hash_password(DEMO_STAFF_PASSWORD)
        for username, role in ((f"{slug}.admin", Role.clinic_admin), (f"{slug}.loket", Role.staff)):
            users.create_user(
                session,
                UserCreate(
                    username=username, password=DEMO_STAFF_PASSWORD, role=role, clinic_id=clinic.id
                ),
                by=admin,
                password_hash=password_hash,
            )
        for kind, device_name in (
            (DeviceKind.kiosk, "Kiosk pintu masuk"),
            (DeviceKind.display, "TV ruang tunggu"),
        ):
            devices.create_device(session, clinic.id, DeviceCreate(name=device_name, kind=kind))
        session.commit()
        return clinic


def _fresh_keys(engine: Engine, clinic: Clinic, sim: SimClinic) -> DemoClinic:
    with open_session(engine, write=True) as session:
        found = session.exec(
            select(Device).where(col(Device.clinic_id) == clinic.id).order_by(col(Device.id))
        )
        keys = {device.kind: devices.rotate_key(session, device) for device in list(found)}
        session.commit()
    return DemoClinic(
        clinic=clinic,
        kiosk_key=keys[DeviceKind.kiosk],
        display_key=keys[DeviceKind.display],
        sim=sim,
    )


def seed(engine: Engine, admin_username: str) -> list[DemoClinic]:
    """Create the demo city if missing; return its clinics with fresh device keys."""
    with open_session(engine, write=False) as session:
        admin = session.exec(select(User).where(col(User.username) == admin_username)).one()
    plans = {plan.code: plan for plan in load_scenario(SCENARIO).clinics}
    city = []
    for row in CLINICS:
        clinic = _seed_clinic(engine, *row, admin)
        # Services, counters (a staff account each), the kiosk: as the scenario has them.
        sim = build_clinic(engine, plans[clinic.code], staff_password=DEMO_STAFF_PASSWORD)
        city.append(_fresh_keys(engine, clinic, sim))
    return city


def print_welcome(base: str, city: list[DemoClinic], admin: tuple[str, str]) -> None:
    print(f"\nAntrean demo — Balikpapan, {len(city)} puskesmas — serving on {base}\n")
    print(f"  Start page:        {base}/")
    print(f"  Staff console:     {base}/staff   (<clinic>.loket / {DEMO_STAFF_PASSWORD})")
    print(f"  Admin pages:       {base}/admin   ({admin[0]} / {admin[1]}, or <clinic>.admin)")
    print(f"  Health office:     {base}/office  ({admin[0]} / {admin[1]}: every clinic)")
    print(f"  API and its docs:  {base}/docs\n")
    for entry in city:
        clinic_id, slug = entry.clinic.id, entry.clinic.code.lower()
        print(f"  {entry.clinic.name} (clinic_id {clinic_id}), staff {slug}.loket")
        print(f"    kiosk:    {base}/kiosk/{clinic_id}   key {entry.kiosk_key}")
        print(f"    display:  {base}/display/{clinic_id}   (the TV; no key needed)")
        print(f"    phone:    {base}/take/{clinic_id}")
    print(
        "\n  The kiosk asks for its key once and keeps it. Keys are new at every start of the"
        "\n  demo (only their digests are stored).\n"
    )


def load_past(engine: Engine, city: list[DemoClinic], days: int) -> None:
    plans = {plan.code: plan for plan in load_scenario(SCENARIO).clinics}
    history = load_history(
        engine,
        [plans[entry.clinic.code] for entry in city],
        [entry.sim for entry in city],
        days=days,
        seed=HISTORY_SEED,
    )
    if history is not None:
        print(
            f"  History: {history.tickets} tickets, {history.events} events over the "
            f"{history.days} days from {history.first_day} (simulated and loaded in "
            f"{history.seconds:.1f} s)"
        )


def start_live_morning(base: str, city: list[DemoClinic], speed: float) -> None:
    """Simulated kiosks and counters acting on the server at `base`, in a thread of their own
    (ends with the process)."""
    plans = {plan.code: plan for plan in load_scenario(SCENARIO).clinics}
    clinics = [
        live_clinic(
            plans[entry.clinic.code],
            entry.sim,
            kiosk_key=entry.kiosk_key,
            staff_username=f"{entry.clinic.code.lower()}.loket",
            staff_password=DEMO_STAFF_PASSWORD,
        )
        for entry in city
    ]
    thread = threading.Thread(
        target=lambda: asyncio.run(run_live(base, clinics, seed=int(time.time()), speed=speed)),
        name="live-morning",
        daemon=True,
    )
    thread.start()


def _flag(name: str, default: str) -> str:
    return os.environ.get(f"ANTREAN_DEMO_{name}", default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("ANTREAN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ANTREAN_PORT", "8000")))
    parser.add_argument("--seed-only", action="store_true", help="create the data and exit")
    parser.add_argument(
        "--history-days",
        type=int,
        default=int(_flag("HISTORY_DAYS", str(HISTORY_DAYS))),
        help="days of simulated history loaded on the first start (0: none)",
    )
    parser.add_argument(
        "--no-live",
        action="store_true",
        default=_flag("LIVE", "1") == "0",
        help="no live morning (simulated kiosks and counters acting at real speed)",
    )
    parser.add_argument(
        "--live-speed",
        type=float,
        default=float(_flag("LIVE_SPEED", "1")),
        help="how much faster than real time the live morning runs",
    )
    args = parser.parse_args()

    os.environ.setdefault("ANTREAN_DATABASE_URL", DEMO_DATABASE)
    os.environ.setdefault("ANTREAN_ADMIN_USERNAME", DEMO_ADMIN[0])
    os.environ.setdefault("ANTREAN_ADMIN_PASSWORD", DEMO_ADMIN[1])
    settings = Settings()
    assert settings.admin_username is not None
    assert settings.admin_password is not None
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    bootstrap_admin(engine, settings.admin_username, settings.admin_password)
    city = seed(engine, settings.admin_username)
    load_past(engine, city, args.history_days)
    engine.dispose()
    base = f"http://{args.host}:{args.port}"
    print_welcome(base, city, (settings.admin_username, settings.admin_password))
    if not args.seed_only:
        if not args.no_live:
            local = base.replace("://0.0.0.0:", "://127.0.0.1:")
            start_live_morning(local, city, args.live_speed)
            print("  Live morning: simulated kiosks and counters are at work (--no-live: off)\n")
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level="info",
            log_config=log_config("text", "info"),  # ticket tokens redacted in the access log
            ws="websockets-sansio",
            ws_per_message_deflate=False,
        )


if __name__ == "__main__":
    main()
