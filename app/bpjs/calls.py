"""The calls the clinic makes at BPJS, as data: what each sends, and the reference lists read.

A call is plain data so the outbox can keep it (`path`, `body()`) and send it again later.
"""

from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Any, ClassVar


class PanggilStatus(IntEnum):
    HADIR = 1  # the patient came to the counter
    TIDAK_HADIR = 2  # called and did not come (the counter's skip)


def _kodedokter(value: int | str) -> int | str:
    # BPJS's own examples send the doctor code as a number; clinics often keep it as text.
    return int(value) if isinstance(value, str) and value.isdigit() else value


@dataclass(frozen=True, kw_only=True)
class AddAntrean:
    """Tambah antrean: a walk-in BPJS patient got a ticket at the clinic."""

    path: ClassVar[str] = "antrean/add"
    nomorkartu: str  # empty for a patient without BPJS
    nik: str
    nohp: str
    kodepoli: str
    namapoli: str
    norm: str
    tanggalperiksa: date
    kodedokter: int | str
    namadokter: str
    jampraktek: str  # "08:00-12:00"
    nomorantrean: str
    angkaantrean: int
    keterangan: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "nomorkartu": self.nomorkartu,
            "nik": self.nik,
            "nohp": self.nohp,
            "kodepoli": self.kodepoli,
            "namapoli": self.namapoli,
            "norm": self.norm,
            "tanggalperiksa": self.tanggalperiksa.isoformat(),
            "kodedokter": _kodedokter(self.kodedokter),
            "namadokter": self.namadokter,
            "jampraktek": self.jampraktek,
            "nomorantrean": self.nomorantrean,
            "angkaantrean": self.angkaantrean,
            "keterangan": self.keterangan,
        }


@dataclass(frozen=True, kw_only=True)
class Panggil:
    """Panggil: the patient was called and came (HADIR) or did not (TIDAK_HADIR)."""

    path: ClassVar[str] = "antrean/panggil"
    tanggalperiksa: date
    kodepoli: str
    nomorkartu: str
    status: PanggilStatus
    waktu: int  # when, in milliseconds since the epoch

    def body(self) -> dict[str, Any]:
        return {
            "tanggalperiksa": self.tanggalperiksa.isoformat(),
            "kodepoli": self.kodepoli,
            "nomorkartu": self.nomorkartu,
            "status": int(self.status),
            "waktu": self.waktu,
        }


@dataclass(frozen=True, kw_only=True)
class Batal:
    """Batal: the clinic cancelled the patient's place, with the reason shown to the patient."""

    path: ClassVar[str] = "antrean/batal"
    tanggalperiksa: date
    kodepoli: str
    nomorkartu: str
    alasan: str

    def body(self) -> dict[str, Any]:
        return {
            "tanggalperiksa": self.tanggalperiksa.isoformat(),
            "kodepoli": self.kodepoli,
            "nomorkartu": self.nomorkartu,
            "alasan": self.alasan,
        }


Call = AddAntrean | Panggil | Batal


@dataclass(frozen=True)
class RefPoli:
    kodepoli: str
    namapoli: str
    kdsubspesialis: str | None = None
    nmsubspesialis: str | None = None


@dataclass(frozen=True)
class RefDokter:
    kodedokter: int | str
    namadokter: str
    jampraktek: str
    kapasitas: int | None = None


class BadReference(ValueError):
    """A reference list that is not one."""


def _items(value: Any) -> list[dict[str, Any]]:
    # BPJS answers {"list": [...]}, or the bare array.
    items = value.get("list") if isinstance(value, dict) else value
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadReference("not a list of objects")
    return items


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadReference(f"{key} missing")
    return str(value)


def _optional_text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None else str(value)


def parse_poli(value: Any) -> list[RefPoli]:
    return [
        RefPoli(
            kodepoli=_text(item, "kodepoli"),
            namapoli=_text(item, "namapoli"),
            kdsubspesialis=_optional_text(item, "kdsubspesialis"),
            nmsubspesialis=_optional_text(item, "nmsubspesialis"),
        )
        for item in _items(value)
    ]


def parse_dokter(value: Any) -> list[RefDokter]:
    doctors = []
    for item in _items(value):
        kapasitas = item.get("kapasitas")
        doctors.append(
            RefDokter(
                kodedokter=_kodedokter(_text(item, "kodedokter")),
                namadokter=_text(item, "namadokter"),
                jampraktek=_text(item, "jampraktek"),
                kapasitas=int(kapasitas)
                if isinstance(kapasitas, int | str) and str(kapasitas).isdigit()
                else None,
            )
        )
    return doctors
