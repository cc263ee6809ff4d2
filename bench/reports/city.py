"""The benchmark's city as a simulator scenario: N puskesmas of varied size, a working year.

Every clinic has the same six services (Pendaftaran, Poli Umum, Poli Gigi and KIA/KB as entry
services; Laboratorium and Apotek reached by transfer), journeys through them (most start at
registration, phone and BPJS patients often go straight to a poli), arrivals peaking 07:00-10:00
local, and counters sized to its load. Sizes are drawn from the seed; the clinics keep
Balikpapan's puskesmas names, and in a city of more than ten clinics two of them keep another
zone's time (Asia/Jakarta, Asia/Jayapura) so that local days and hours are exercised.
"""

import math
import random
from datetime import date, timedelta
from typing import Any

from app.sim.scenario import Scenario, parse_scenario

YEAR = 2025
# National holidays and collective leave of 2025 (puskesmas closed, apart from emergencies).
HOLIDAYS = {
    date(2025, 1, 1),
    date(2025, 1, 27),
    date(2025, 1, 29),
    date(2025, 3, 28),
    date(2025, 3, 31),
    *(date(2025, 4, d) for d in range(1, 8)),
    date(2025, 4, 18),
    date(2025, 5, 1),
    date(2025, 5, 12),
    date(2025, 5, 29),
    date(2025, 6, 6),
    date(2025, 6, 27),
    date(2025, 9, 5),
    date(2025, 12, 25),
    date(2025, 12, 26),
}
NAMES = (
    "Klandasan Ilir", "Klandasan Ulu", "Prapatan", "Damai", "Sepinggan", "Sepinggan Baru",
    "Gunung Sari Ilir", "Gunung Sari Ulu", "Karang Rejo", "Karang Jati", "Mekar Sari",
    "Muara Rapak", "Baru Tengah", "Baru Ulu", "Marga Sari", "Manggar", "Manggar Baru", "Lamaru",
    "Teritip", "Batu Ampar", "Graha Indah", "Gunung Samarinda", "Sumber Rejo", "Telaga Sari",
    "Kariangau", "Kampung Baru", "Margo Mulyo", "Batakan", "Sungai Nangka", "Gunung Bahagia",
)  # fmt: skip
OTHER_ZONES = {28: "Asia/Jakarta", 29: "Asia/Jayapura"}
# Arrivals per local hour of a clinic of size 1 on an ordinary day: about 270 tickets.
ARRIVALS = {"06": 12, "07": 50, "08": 75, "09": 60, "10": 38, "11": 22, "12": 9, "13": 4}
WEEKDAY_LOAD = {"mon": 1.25, "tue": 1.1, "fri": 0.85, "sat": 0.8}
# name, prefix, target wait, mean and sd of the service minutes, hours (open, close, pauses)
Hours = tuple[str, str, list[tuple[str, str]]]
SERVICES: tuple[tuple[str, str, int, float, float, Hours], ...] = (
    ("Pendaftaran", "A", 15, 2.5, 1.2, ("07:00", "12:30", [])),
    ("Poli Umum", "B", 30, 6.5, 3.5, ("07:30", "14:00", [("12:00", "12:30")])),
    ("Poli Gigi", "C", 30, 14.0, 7.0, ("07:30", "14:00", [("12:00", "12:30")])),
    ("KIA/KB", "D", 30, 10.0, 5.0, ("07:30", "14:00", [("12:00", "12:30")])),
    ("Laboratorium", "E", 30, 8.0, 4.0, ("08:00", "13:30", [])),
    ("Apotek", "F", 15, 3.5, 1.5, ("08:00", "14:30", [])),
)
JOURNEYS = (
    (0.30, ("Pendaftaran", "Poli Umum", "Apotek")),
    (0.06, ("Pendaftaran", "Poli Umum", "Laboratorium", "Apotek")),
    (0.08, ("Pendaftaran", "Poli Umum")),
    (0.10, ("Pendaftaran", "KIA/KB", "Apotek")),
    (0.06, ("Pendaftaran", "KIA/KB")),
    (0.04, ("Pendaftaran", "Poli Gigi", "Apotek")),
    (0.05, ("Pendaftaran", "Poli Gigi")),
    (0.03, ("Pendaftaran",)),
    (0.14, ("Poli Umum", "Apotek")),  # phone and BPJS patients straight to a poli
    (0.02, ("Poli Umum", "Laboratorium", "Apotek")),
    (0.08, ("KIA/KB", "Apotek")),
    (0.04, ("Poli Gigi",)),
)
SHARES = {"priority": 0.19, "no_show": 0.04, "phone": 0.3, "staff": 0.05, "requeue": 0.35,
          "cancel": 0.1, "start": 0.6, "recall": 0.06}  # fmt: skip


def working_days(days: int) -> list[date]:
    """The first `days` working days of the year (0: all): Monday to Saturday, no holiday."""
    found = []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        if day.weekday() < 6 and day not in HOLIDAYS:
            found.append(day)
        day += timedelta(days=1)
    return found[:days] if days else found


def _legs_per_ticket() -> dict[str, float]:
    """How many legs a ticket spends in each service, on average."""
    found = {name: 0.0 for name, *_ in SERVICES}
    for share, path in JOURNEYS:
        for name in path:
            found[name] += share
    return found


def _clinic(index: int, clinics: int, size: float) -> dict[str, Any]:
    name = NAMES[index % len(NAMES)] + ("" if index < len(NAMES) else f" {index}")
    tickets = sum(ARRIVALS.values()) * size * 1.25  # a Monday
    legs = _legs_per_ticket()
    services = []
    for service, prefix, target, mean, sd, (opening, closing, pauses) in SERVICES:
        # Enough counters to keep up over about four and a half busy hours.
        rooms = max(1, math.ceil(tickets * legs[service] * mean / 270))
        services.append(
            {
                "name": service,
                "prefix": prefix,
                "target_wait_minutes": target,
                "service_minutes": {"mean": mean, "sd": sd},
                "counters": [
                    {"name": f"{service} {n}", "open": opening, "close": closing, "pauses": pauses}
                    for n in range(1, rooms + 1)
                ],  # fmt: skip
            }
        )
    return {
        "code": f"PKM{index + 1:03d}",
        "name": f"Puskesmas {name}",
        "timezone": OTHER_ZONES.get(index, "Asia/Makassar") if clinics > 10 else "Asia/Makassar",
        "arrivals_per_hour": {hour: rate * size for hour, rate in ARRIVALS.items()},
        "weekday_load": WEEKDAY_LOAD,
        "shares": SHARES,
        "journeys": [{"share": share, "path": list(path)} for share, path in JOURNEYS],
        "services": services,
    }


def city(clinics: int, seed: int) -> Scenario:
    """The city's scenario: clinic sizes 0.6-1.4 drawn from `seed`."""
    rng = random.Random(seed)
    return parse_scenario(
        {"clinics": [_clinic(i, clinics, rng.uniform(0.6, 1.4)) for i in range(clinics)]},
        source="the benchmark's city",
    )
