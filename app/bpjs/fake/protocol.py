"""The fake BPJS's answers to the clinic's calls, checked as BPJS checks them."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.bpjs.fake import rules
from app.bpjs.fake.state import Antrean, Consumer, FakeState, antrean_key
from app.bpjs.signature import signature_matches

# BPJS's calendar: "today" for the no-earlier-than-today rule.
BPJS_ZONE = ZoneInfo("Asia/Jakarta")
OK = "Ok"


@dataclass(frozen=True)
class Answer:
    code: int
    message: str
    response: Any = None  # sent encrypted when not None


def refuse(message: str) -> Answer:
    return Answer(201, message)


def authenticate(state: FakeState, headers: Mapping[str, str]) -> Consumer | str:
    """The consumer a call is signed by, or why it is refused (metadata code 401)."""
    cons_id = headers.get("x-cons-id")
    timestamp = headers.get("x-timestamp")
    given = headers.get("x-signature")
    user_key = headers.get("user_key")
    if not cons_id or not timestamp or not given or not user_key:
        return "Header x-cons-id, x-timestamp, x-signature dan user_key wajib diisi"
    consumer = state.consumers.get(cons_id)
    if consumer is None:
        return "Consumer ID tidak terdaftar"
    if not rules.DIGITS.fullmatch(timestamp):
        return "Timestamp tidak valid"
    if abs(state.clock() - int(timestamp)) > state.max_skew_seconds:
        return "Timestamp kedaluwarsa, periksa jam server"
    if not signature_matches(consumer.cons_id, consumer.cons_secret, timestamp, given):
        return "Signature tidak valid"
    if user_key != consumer.user_key:
        return "User key tidak valid"
    return consumer


def today(state: FakeState) -> date:
    return datetime.fromtimestamp(state.clock(), BPJS_ZONE).date()


def _listed(state: FakeState, items: list[dict[str, Any]]) -> Any:
    return {"list": items} if state.shape == "list" else items


def ref_poli(state: FakeState, tanggal: str) -> Answer:
    if rules.parse_tanggal(tanggal) is None:
        return refuse(rules.FORMAT_TANGGAL)
    with state.lock:
        return Answer(200, OK, _listed(state, list(state.poli)))


def ref_dokter(state: FakeState, kodepoli: str, tanggal: str) -> Answer:
    if rules.parse_tanggal(tanggal) is None:
        return refuse(rules.FORMAT_TANGGAL)
    with state.lock:
        if not _poli_known(state, kodepoli):
            return refuse(rules.POLI_TIDAK_DITEMUKAN)
        return Answer(200, OK, _listed(state, list(state.dokter.get(kodepoli, []))))


def _poli_known(state: FakeState, kodepoli: Any) -> bool:
    return any(poli.get("kodepoli") == kodepoli for poli in state.poli)


def _dokter_known(state: FakeState, kodepoli: str, kodedokter: Any) -> bool:
    wanted = rules.as_int(kodedokter)
    return wanted is not None and any(
        rules.as_int(doctor.get("kodedokter")) == wanted
        for doctor in state.dokter.get(kodepoli, [])
    )


def add(state: FakeState, body: dict[str, Any]) -> Answer:
    """Tambah antrean."""
    error = rules.first_error(
        rules.check_nomorkartu(body.get("nomorkartu"), may_be_empty=True),
        rules.check_nik(body.get("nik")),
        rules.check_text(body.get("nohp"), "Nomor HP"),
        rules.check_text(body.get("kodepoli"), "Kode poli"),
        rules.check_text(body.get("namapoli"), "Nama poli"),
        rules.check_text(body.get("norm"), "Nomor rekam medis"),
        rules.check_tanggal(body.get("tanggalperiksa"), today(state)),
        None if rules.as_int(body.get("kodedokter")) is not None else "Kode dokter tidak sesuai",
        rules.check_text(body.get("namadokter"), "Nama dokter"),
        rules.check_jampraktek(body.get("jampraktek")),
        rules.check_text(body.get("nomorantrean"), "Nomor antrean"),
        rules.check_angka(body.get("angkaantrean")),
        rules.check_text(body.get("keterangan"), "Keterangan", may_be_empty=True),
    )
    if error:
        return refuse(error)
    kodepoli = body["kodepoli"]
    key = antrean_key(body["nomorkartu"], body["nik"], kodepoli, body["tanggalperiksa"])
    with state.lock:
        if not _poli_known(state, kodepoli):
            return refuse(rules.POLI_TIDAK_DITEMUKAN)
        if not _dokter_known(state, kodepoli, body["kodedokter"]):
            return refuse(rules.DOKTER_TIDAK_DITEMUKAN)
        held = state.antrean.get(key)
        if held is not None and held.status != "batal":
            return refuse(rules.SUDAH_TERDAFTAR)
        state.antrean[key] = Antrean(
            nomorkartu=body["nomorkartu"],
            nik=body["nik"],
            kodepoli=kodepoli,
            tanggalperiksa=body["tanggalperiksa"],
            nomorantrean=body["nomorantrean"],
            body=dict(body),
        )
    return Answer(200, OK)


def _held(state: FakeState, body: dict[str, Any]) -> Antrean | str:
    """The antrean a panggil or batal is about (a new one when not strict), or the refusal.
    Called with the lock held."""
    kodepoli = body["kodepoli"]
    if not _poli_known(state, kodepoli):
        return rules.POLI_TIDAK_DITEMUKAN
    key = antrean_key(body["nomorkartu"], "", kodepoli, body["tanggalperiksa"])
    held = state.antrean.get(key)
    if held is None:
        if state.strict:
            return rules.ANTREAN_TIDAK_DITEMUKAN
        held = state.antrean[key] = Antrean(
            body["nomorkartu"], "", kodepoli, body["tanggalperiksa"]
        )
    if held.status == "batal":
        return rules.SUDAH_DIBATALKAN
    return held


def _common(state: FakeState, body: dict[str, Any]) -> str | None:
    return rules.first_error(
        rules.check_tanggal(body.get("tanggalperiksa"), today(state)),
        rules.check_text(body.get("kodepoli"), "Kode poli"),
        rules.check_nomorkartu(body.get("nomorkartu")),
    )


def panggil(state: FakeState, body: dict[str, Any]) -> Answer:
    """Hadir (1) or tidak hadir (2)."""
    error = rules.first_error(
        _common(state, body),
        rules.check_status(body.get("status")),
        rules.check_waktu(body.get("waktu")),
    )
    if error:
        return refuse(error)
    with state.lock:
        held = _held(state, body)
        if isinstance(held, str):
            return refuse(held)
        held.status = "hadir" if rules.as_int(body["status"]) == 1 else "tidak_hadir"
    return Answer(200, OK)


def batal(state: FakeState, body: dict[str, Any]) -> Answer:
    """Batal, refused once the patient was served."""
    error = rules.first_error(_common(state, body), rules.check_text(body.get("alasan"), "Alasan"))
    if error:
        return refuse(error)
    with state.lock:
        held = _held(state, body)
        if isinstance(held, str):
            return refuse(held)
        if held.status == "hadir":
            return refuse(rules.SUDAH_DILAYANI)
        held.status = "batal"
    return Answer(200, OK)
