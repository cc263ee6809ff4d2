"""What BPJS checks in the clinic's calls, with the messages it answers (metadata code 201).

Each check returns the refusal's message, or None when the field is acceptable.
"""

import re
from datetime import date
from typing import Any

DIGITS = re.compile(r"\d+")
JAM_PRAKTEK = re.compile(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d")
FORMAT_TANGGAL = "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"
TANGGAL_MUNDUR = "Tanggal Periksa Tidak Berlaku Mundur"
POLI_TIDAK_DITEMUKAN = "Poli Tidak Ditemukan"
DOKTER_TIDAK_DITEMUKAN = "Dokter Tidak Ditemukan"
SUDAH_TERDAFTAR = "Peserta sudah terdaftar di poli tersebut pada hari ini"
ANTREAN_TIDAK_DITEMUKAN = "Antrean Tidak Ditemukan"
SUDAH_DILAYANI = "Pasien Sudah Dilayani, Antrean Tidak Dapat Dibatalkan"
SUDAH_DIBATALKAN = "Antrean Sudah Dibatalkan"


def parse_tanggal(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def check_tanggal(value: Any, today: date) -> str | None:
    day = parse_tanggal(value)
    if day is None:
        return FORMAT_TANGGAL
    if day < today:
        return TANGGAL_MUNDUR
    return None


def check_nomorkartu(value: Any, *, may_be_empty: bool = False) -> str | None:
    if may_be_empty and value == "":
        return None  # a patient without BPJS: tambah antrean leaves the card empty
    if not isinstance(value, str) or not DIGITS.fullmatch(value) or len(value) != 13:
        return "Nomor kartu harus 13 digit"
    return None


def check_nik(value: Any) -> str | None:
    if not isinstance(value, str) or not DIGITS.fullmatch(value) or len(value) != 16:
        return "NIK harus 16 digit"
    return None


def check_text(value: Any, label: str, *, may_be_empty: bool = False) -> str | None:
    if not isinstance(value, str) or (not may_be_empty and not value.strip()):
        return f"{label} tidak boleh kosong"
    return None


def check_jampraktek(value: Any) -> str | None:
    if not isinstance(value, str) or not JAM_PRAKTEK.fullmatch(value):
        return "Format Jam Praktek Tidak Sesuai, format yang benar adalah HH:mm-HH:mm"
    return None


def as_int(value: Any) -> int | None:
    """A whole number sent as a number or as digits (BPJS takes both); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and DIGITS.fullmatch(value):
        return int(value)
    return None


def check_angka(value: Any) -> str | None:
    number = as_int(value)
    if number is None or number < 1:
        return "Angka Antrean Tidak Sesuai"
    return None


def check_status(value: Any) -> str | None:
    if as_int(value) not in (1, 2):
        return "Status Tidak Sesuai, 1 = Hadir, 2 = Tidak Hadir"
    return None


def check_waktu(value: Any) -> str | None:
    # Milliseconds: a value in seconds (ten digits) is the usual mistake, refuse it.
    number = as_int(value)
    if number is None or number < 10**12:
        return "Format Waktu Tidak Sesuai, waktu dalam timestamp milisecond"
    return None


def first_error(*messages: str | None) -> str | None:
    return next((message for message in messages if message is not None), None)
