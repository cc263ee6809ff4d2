"""A country's directory, written straight into a migrated database (the API would take an
hour for ten thousand clinics): per clinic a registration service (entry) and a polyclinic
(reached by transfer), a counter for each, a kiosk and a staff account.

Ids are given in order (clinic i has services 2i-1 and 2i, counters likewise), the sequences
moved past them. Kiosk keys are made here; staff tokens are signed with the key the servers
are given (`ANTREAN_SECRET_KEY`), so no one has to sign in ten thousand times.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, text

from app.auth.deps import device_key
from app.auth.passwords import hash_password
from app.auth.secrets import digest
from app.auth.tokens import issue_access_token
from app.models import Clinic, Counter, CounterService, Device, DeviceKind, Role, Service, User

# Indonesia's three time zones, roughly in proportion to the puskesmas in each.
ZONES = ("Asia/Jakarta",) * 6 + ("Asia/Makassar",) * 3 + ("Asia/Jayapura",)


@dataclass(frozen=True)
class SeededClinic:
    id: int
    registration: int  # service id, entry
    polyclinic: int  # service id, by transfer
    counters: tuple[int, int]  # serving registration, polyclinic
    kiosk: str  # Authorization header value
    staff: str


def seed(engine: Engine, clinics: int, secret_key: str, batch: int = 2000) -> list[SeededClinic]:
    password_hash = hash_password(secrets.token_urlsafe(16))  # one for all: nobody signs in
    now = datetime.now(UTC)
    seeded: list[SeededClinic] = []
    with engine.begin() as connection:
        for start in range(1, clinics + 1, batch):
            ids = range(start, min(start + batch, clinics + 1))
            keys = {i: secrets.token_urlsafe(32) for i in ids}
            connection.execute(
                insert(Clinic),
                [
                    {
                        "id": i,
                        "code": f"PKM{i:05d}",
                        "name": f"Puskesmas {i}",
                        "timezone": ZONES[i % len(ZONES)],
                        "allow_remote_tickets": True,
                        "event_seq": 0,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                insert(Service),
                [
                    {
                        "id": 2 * i - 1 + offset,
                        "clinic_id": i,
                        "name": name,
                        "prefix": prefix,
                        "entry": entry,
                        "target_wait_minutes": 30,
                        "is_open": True,
                        "priority_lead_minutes": 60,
                        "default_service_minutes": 5,
                    }
                    for i in ids
                    for offset, (name, prefix, entry) in enumerate(
                        (("Pendaftaran", "A", True), ("Poli Umum", "B", False))
                    )
                ],
            )
            connection.execute(
                insert(Counter),
                [
                    {"id": 2 * i - 1 + offset, "clinic_id": i, "name": name}
                    for i in ids
                    for offset, name in enumerate(("Loket 1", "Ruang Umum"))
                ],
            )
            connection.execute(
                insert(CounterService),
                [
                    {"counter_id": 2 * i - 1 + offset, "service_id": 2 * i - 1 + offset}
                    for i in ids
                    for offset in (0, 1)
                ],
            )
            connection.execute(
                insert(Device),
                [
                    {
                        "id": i,
                        "clinic_id": i,
                        "name": "Kiosk",
                        "kind": DeviceKind.kiosk,
                        "key_digest": digest(keys[i]),
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                insert(User),
                [
                    {
                        "id": i,
                        "username": f"staff{i:05d}",
                        "password_hash": password_hash,
                        "role": Role.staff,
                        "clinic_id": i,
                        "is_active": True,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            for i in ids:
                token = issue_access_token(user_id=i, key=secret_key, now=now, minutes=24 * 60)
                seeded.append(
                    SeededClinic(
                        id=i,
                        registration=2 * i - 1,
                        polyclinic=2 * i,
                        counters=(2 * i - 1, 2 * i),
                        kiosk=f"Bearer {device_key(i, keys[i])}",
                        staff=f"Bearer {token}",
                    )
                )
        for table in ("clinic", "service", "counter", "device", '"user"'):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    return seeded
