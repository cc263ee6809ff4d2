"""`python -m app.demo`: a demo city (Balikpapan puskesmas) on SQLite, served on one port.

Idempotent: a second run keeps the data and only gives the demo devices fresh keys (keys are
stored as digests, so they can only be shown when made).
"""

import argparse
import os
from dataclasses import dataclass

import uvicorn
from sqlalchemy import Engine
from sqlmodel import col, select

from app.auth.passwords import hash_password
from app.config import Settings
from app.db import make_engine, open_session
from app.directory import clinics, counters, devices, services, users
from app.directory.users import bootstrap_admin
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import Clinic, Device, DeviceKind, Role, User
from app.models.clinic import ClinicCreate
from app.models.counter import CounterCreate
from app.models.device import DeviceCreate
from app.models.service import ServiceCreate
from app.models.user import UserCreate
from app.observability.logs import log_config

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
# name, prefix, entry, daily quota, target wait (minutes), typical service minutes
SERVICES = [
    ("Pendaftaran Umum", "A", True, None, 15, 3),
    ("Pendaftaran BPJS", "B", True, None, 15, 3),
    ("Poli Umum", "C", False, None, 30, 8),
    ("Poli Gigi", "D", False, 25, 45, 15),
    ("KIA / KB", "E", False, None, 30, 10),
    ("Laboratorium", "F", False, None, 30, 7),
    ("Apotek", "G", False, None, 15, 4),
]
COUNTERS = [
    ("Loket 1", "AB"),
    ("Loket 2", "AB"),
    ("Ruang Poli Umum 1", "C"),
    ("Ruang Poli Umum 2", "C"),
    ("Ruang Poli Gigi", "D"),
    ("Ruang KIA", "E"),
    ("Laboratorium", "F"),
    ("Apotek", "G"),
]


@dataclass
class DemoClinic:
    clinic: Clinic
    kiosk_key: str
    display_key: str


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
        prefix_ids: dict[str, int] = {}
        for s_name, prefix, entry, quota, target, minutes in SERVICES:
            service = services.create_service(
                session,
                clinic.id,
                ServiceCreate(
                    name=s_name,
                    prefix=prefix,
                    entry=entry,
                    daily_quota=quota,
                    target_wait_minutes=target,
                    default_service_minutes=minutes,
                ),
            )
            assert service.id is not None
            prefix_ids[prefix] = service.id
        for c_name, prefixes in COUNTERS:
            counters.create_counter(
                session,
                clinic.id,
                CounterCreate(name=c_name, service_ids=[prefix_ids[p] for p in prefixes]),
            )
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


def _fresh_keys(engine: Engine, clinic: Clinic) -> DemoClinic:
    with open_session(engine, write=True) as session:
        found = session.exec(
            select(Device).where(col(Device.clinic_id) == clinic.id).order_by(col(Device.id))
        )
        keys = {device.kind: devices.rotate_key(session, device) for device in list(found)}
        session.commit()
    return DemoClinic(
        clinic=clinic, kiosk_key=keys[DeviceKind.kiosk], display_key=keys[DeviceKind.display]
    )


def seed(engine: Engine, admin_username: str) -> list[DemoClinic]:
    """Create the demo city if missing; return its clinics with fresh device keys."""
    with open_session(engine, write=False) as session:
        admin = session.exec(select(User).where(col(User.username) == admin_username)).one()
    return [_fresh_keys(engine, _seed_clinic(engine, *row, admin)) for row in CLINICS]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("ANTREAN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ANTREAN_PORT", "8000")))
    parser.add_argument("--seed-only", action="store_true", help="create the data and exit")
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
    engine.dispose()
    print_welcome(
        f"http://{args.host}:{args.port}", city, (settings.admin_username, settings.admin_password)
    )
    if not args.seed_only:
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
