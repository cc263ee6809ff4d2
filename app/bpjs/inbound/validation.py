"""Mobile JKN's request bodies and path values, checked by hand so that every refusal is
BPJS's envelope with its Indonesian message (never FastAPI's 422 list)."""

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.bpjs.inbound import messages as m
from app.bpjs.inbound.messages import Refusal
from app.models.types import Text

# A booking is for today or tomorrow (the clinic's local days), as puskesmas systems already
# connected to Mobile JKN take them: a later day's plans change too often to hold a number.
BOOKING_DAYS_AHEAD = 1

_CARD = re.compile(r"^[0-9]{13}$")
_NIK = re.compile(r"^[0-9]{16}$")
_POLI = re.compile(r"^[A-Za-z0-9]{1,16}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PHONE = re.compile(r"^\+?[0-9]{6,19}$")
_TEXT: TypeAdapter[str] = TypeAdapter(Text)
_SHORT = 32


@dataclass(frozen=True, slots=True)
class BookingRequest:
    nomorkartu: str
    nik: str
    kodepoli: str
    tanggalperiksa: date
    norm: str | None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    nomorkartu: str
    kodepoli: str
    tanggalperiksa: date


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refusal(m.BAD_REQUEST) from None
    if not isinstance(body, dict):
        raise Refusal(m.BAD_REQUEST)
    return body


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def card(value: Any) -> str:
    if _blank(value):
        raise Refusal(m.CARD_MISSING)
    if not isinstance(value, str) or not _CARD.match(value.strip()):
        raise Refusal(m.CARD_FORMAT)
    return value.strip()


def nik(value: Any) -> str:
    if _blank(value):
        raise Refusal(m.NIK_MISSING)
    if not isinstance(value, str) or not _NIK.match(value.strip()):
        raise Refusal(m.NIK_FORMAT)
    return value.strip()


def poli(value: Any) -> str:
    """A poli code as the services are mapped (upper case); a malformed one names no poli."""
    if _blank(value):
        raise Refusal(m.POLI_MISSING)
    if not isinstance(value, str) or not _POLI.match(value.strip()):
        raise Refusal(m.POLI_NOT_FOUND)
    return value.strip().upper()


def day(value: Any) -> date:
    if _blank(value):
        raise Refusal(m.DATE_MISSING)
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        raise Refusal(m.DATE_FORMAT)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Refusal(m.DATE_FORMAT) from None


def not_past(visit: date, today: date) -> None:
    if visit < today:
        raise Refusal(m.DATE_PAST)


def bookable(visit: date, today: date) -> None:
    not_past(visit, today)
    if visit > today + timedelta(days=BOOKING_DAYS_AHEAD):
        raise Refusal(m.DATE_TOO_FAR)


def optional_text(body: dict[str, Any], name: str, max_length: int = 500) -> str | None:
    """An optional field: absent, null or a string (a number too, for codes), printable and
    within `max_length`."""
    value = body.get(name)
    if _blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > max_length:
        raise Refusal(f"Format {name} Tidak Sesuai")
    try:
        return _TEXT.validate_python(value.strip())
    except ValidationError:
        raise Refusal(f"Format {name} Tidak Sesuai") from None


def booking(body: dict[str, Any]) -> BookingRequest:
    """POST antrean: the fields checked in the order Mobile JKN's user would fix them."""
    request = BookingRequest(
        nomorkartu=card(body.get("nomorkartu")),
        nik=nik(body.get("nik")),
        kodepoli=poli(body.get("kodepoli")),
        tanggalperiksa=day(body.get("tanggalperiksa")),
        norm=optional_text(body, "norm", _SHORT),
    )
    # Checked, not kept: the clinic needs none of them to serve the booking (docs/bpjs.md).
    optional_text(body, "keluhan")
    optional_text(body, "kodedokter", _SHORT)
    optional_text(body, "jampraktek", _SHORT)
    phone = optional_text(body, "nohp", _SHORT)
    if phone is not None and not _PHONE.match(phone):
        raise Refusal("Format nohp Tidak Sesuai")
    return request


def cancellation(body: dict[str, Any]) -> CancelRequest:
    """PUT antrean/batal (its `keterangan`, the patient's reason, is checked, not kept)."""
    request = CancelRequest(
        nomorkartu=card(body.get("nomorkartu")),
        kodepoli=poli(body.get("kodepoli")),
        tanggalperiksa=day(body.get("tanggalperiksa")),
    )
    optional_text(body, "keterangan")
    return request


_PATIENT_TEXTS = (
    "nomorkk",
    "nama",
    "alamat",
    "kodeprop",
    "namaprop",
    "kodedati2",
    "namadati2",
    "kodekec",
    "namakec",
    "kodekel",
    "namakel",
    "rw",
    "rt",
)


def new_patient(body: dict[str, Any]) -> str:
    """POST peserta: the card it registers. The identity sent with it is checked for form,
    then dropped (docs/bpjs.md)."""
    number = card(body.get("nomorkartu"))
    nik(body.get("nik"))
    for name in _PATIENT_TEXTS:
        optional_text(body, name)
    sex = optional_text(body, "jeniskelamin", 1)
    if sex is not None and sex.upper() not in ("L", "P"):
        raise Refusal("Format jeniskelamin Tidak Sesuai")
    born = body.get("tanggallahir")
    if not _blank(born):
        try:
            day(born)
        except Refusal:
            raise Refusal("Format tanggallahir Tidak Sesuai") from None
    return number
