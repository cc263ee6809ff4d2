"""Mobile JKN's bad input, new patients, closed polis and limits: every refusal is BPJS's
envelope with code 201 and its Indonesian message (HTTP 200), never a 422 or a 5xx, and
changes nothing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app.bpjs.credentials import clear_credentials
from app.config import Settings
from app.models import Ticket
from app.models.bpjs import BpjsBooking, BpjsNewPatient, BpjsSettings
from tests.bpjs_mjkn import (
    BPJS_PASSWORD,
    CARD,
    NIK,
    OTHER_CARD,
    TOMORROW,
    MobileJkn,
    bridge_on,
    outcome,
)
from tests.world import World

DATE_FORMAT = "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"bpjs_auth_rate": "30/minute"})


def rows(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.execute(select(func.count()).select_from(Ticket)).scalar_one(),
            session.execute(select(func.count()).select_from(BpjsBooking)).scalar_one(),
            session.execute(select(func.count()).select_from(BpjsNewPatient)).scalar_one(),
        )


BOOKINGS: list[tuple[dict[str, Any], str]] = [
    ({"nomorkartu": None}, "Nomor Kartu Tidak Boleh Kosong"),
    ({"nomorkartu": ""}, "Nomor Kartu Tidak Boleh Kosong"),
    ({"nomorkartu": "12345"}, "Nomor kartu harus 13 digit"),
    ({"nomorkartu": "000123456789X"}, "Nomor kartu harus 13 digit"),
    ({"nomorkartu": 1234567890123}, "Nomor kartu harus 13 digit"),
    ({"nik": ""}, "NIK Tidak Boleh Kosong"),
    ({"nik": "647101230190000"}, "NIK harus 16 digit"),
    ({"nik": ["6471012301900001"]}, "NIK harus 16 digit"),
    ({"kodepoli": ""}, "Kode Poli Tidak Boleh Kosong"),
    ({"kodepoli": "999"}, "Poli Tidak Ditemukan"),
    ({"kodepoli": "00'1"}, "Poli Tidak Ditemukan"),
    ({"kodepoli": {"a": 1}}, "Poli Tidak Ditemukan"),
    ({"tanggalperiksa": ""}, "Tanggal Periksa Tidak Boleh Kosong"),
    ({"tanggalperiksa": "23-11-2026"}, DATE_FORMAT),
    ({"tanggalperiksa": "2026-02-30"}, DATE_FORMAT),
    ({"tanggalperiksa": 20261123}, DATE_FORMAT),
    ({"tanggalperiksa": "2026-11-22"}, "Tanggal Periksa Tidak Berlaku Mundur"),
    (
        {"tanggalperiksa": "2026-11-25"},
        "Pendaftaran Hanya Dapat Dilakukan untuk Hari Ini atau Besok",
    ),
    ({"keluhan": 12.5}, "Format keluhan Tidak Sesuai"),
    ({"keluhan": "x" * 501}, "Format keluhan Tidak Sesuai"),
    ({"keluhan": "sakit\u0000kepala"}, "Format keluhan Tidak Sesuai"),
    ({"nohp": "nomor saya"}, "Format nohp Tidak Sesuai"),
    ({"norm": {"no": 1}}, "Format norm Tidak Sesuai"),
    ({"jampraktek": True}, "Format jampraktek Tidak Sesuai"),
]


@pytest.mark.parametrize(("fields", "message"), BOOKINGS)
def test_a_bad_booking_is_refused_with_its_message(
    world: World, engine: Engine, fields: dict[str, Any], message: str
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    before = rows(engine)
    answer = mjkn.book(**fields)
    assert outcome(answer) == (201, message)
    assert "response" not in answer.json()
    assert rows(engine) == before


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"antrean"', b"", b"\xff\xfe", b"[" * 5000 + b"]" * 5000],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    world: World, engine: Engine, body: bytes
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    for method, path in (("POST", "antrean"), ("PUT", "antrean/batal"), ("POST", "peserta")):
        answer = world.client.request(
            method, f"{mjkn.base}/{path}", headers=mjkn.headers, content=body
        )
        assert outcome(answer) == (201, "Format Request Tidak Sesuai")
    assert rows(engine) == (0, 0, 0)


def test_bad_path_values_get_the_envelope_too(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    assert outcome(mjkn.status(day="2026-13-01")) == (201, DATE_FORMAT)
    assert outcome(mjkn.status(day="kemarin")) == (201, DATE_FORMAT)
    assert outcome(mjkn.status(day="2026-11-22")) == (201, "Tanggal Periksa Tidak Berlaku Mundur")
    assert outcome(mjkn.status(kodepoli="999")) == (201, "Poli Tidak Ditemukan")
    assert outcome(mjkn.status(kodepoli="%E2%80%AE")) == (201, "Poli Tidak Ditemukan")
    assert outcome(mjkn.remaining(card="123")) == (201, "Nomor kartu harus 13 digit")
    assert outcome(mjkn.remaining(day="x" * 5000)) == (201, DATE_FORMAT)
    long_code = MobileJkn(world, code="K" * 5000, token=mjkn.token)
    assert outcome(long_code.status()) == (201, "Token Tidak Valid")


def test_a_closed_or_transfer_only_or_full_poli_takes_no_booking(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    closed = world.client.patch(
        f"/api/v1/services/{world.services['A']['id']}",
        headers=world.clinic_admin,
        json={"is_open": False},
    )
    assert closed.status_code == 200
    assert outcome(mjkn.book()) == (201, "Pendaftaran ke Poli Ini Sedang Tutup")
    status = mjkn.status().json()["response"][0]
    assert status["keterangan"] == "Pendaftaran ke Poli Ini Sedang Tutup"
    # Poli Umum (003) takes patients only by transfer from registration.
    assert outcome(mjkn.book(kodepoli="003")) == (201, "Pendaftaran ke Poli Ini Sedang Tutup")
    # Poli Gigi (002) takes three a day.
    for _ in range(3):
        world.take("C")
    assert outcome(mjkn.book(kodepoli="002")) == (201, "Kuota Antrean Poli Ini Sudah Habis")
    assert world.waiting_codes("A") == []
    assert world.waiting_codes("C") == ["C-001", "C-002", "C-003"]


def test_an_unknown_card_is_a_new_patient_until_peserta_registers_it(
    world: World, engine: Engine
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    answer = mjkn.book(norm=None)
    assert outcome(answer) == (202, "Pasien Baru")
    assert rows(engine) == (0, 0, 0)
    registered = mjkn.new_patient()
    assert outcome(registered) == (200, "Ok")
    assert "response" not in registered.json()
    assert outcome(mjkn.new_patient()) == (200, "Ok")  # again: still one row
    assert rows(engine) == (0, 0, 1)
    assert outcome(mjkn.book(norm=None)) == (200, "Ok")
    # Only the card is kept of the registration: not the NIK, name or address.
    with Session(engine) as session:
        kept = session.get(BpjsNewPatient, (world.clinic_id, CARD))
        assert kept is not None
        assert set(kept.model_dump()) == {"clinic_id", "nomorkartu", "registered_at"}
        link = session.execute(select(BpjsBooking)).scalar_one()
        assert (link.nik, link.nohp, link.kodedokter, link.jampraktek) == (None,) * 4
    # A card with its medical record number (norm) is a known patient.
    assert outcome(mjkn.book(nomorkartu=OTHER_CARD)) == (200, "Ok")


PATIENTS: list[tuple[dict[str, Any], str]] = [
    ({"nomorkartu": ""}, "Nomor Kartu Tidak Boleh Kosong"),
    ({"nomorkartu": "12"}, "Nomor kartu harus 13 digit"),
    ({"nik": None}, "NIK Tidak Boleh Kosong"),
    ({"nik": "1"}, "NIK harus 16 digit"),
    ({"nama": 7.5}, "Format nama Tidak Sesuai"),
    ({"jeniskelamin": "X"}, "Format jeniskelamin Tidak Sesuai"),
    ({"tanggallahir": "01-03-1985"}, "Format tanggallahir Tidak Sesuai"),
    ({"alamat": ["Jl."]}, "Format alamat Tidak Sesuai"),
]


@pytest.mark.parametrize(("fields", "message"), PATIENTS)
def test_a_bad_new_patient_is_refused(
    world: World, engine: Engine, fields: dict[str, Any], message: str
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    assert outcome(mjkn.new_patient(**fields)) == (201, message)
    assert rows(engine) == (0, 0, 0)


def test_bad_cancellations_are_refused(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    assert outcome(mjkn.cancel(nomorkartu="1")) == (201, "Nomor kartu harus 13 digit")
    assert outcome(mjkn.cancel(tanggalperiksa="besok")) == (201, DATE_FORMAT)
    assert outcome(mjkn.cancel(keterangan=3.5)) == (201, "Format keterangan Tidak Sesuai")
    assert outcome(mjkn.cancel(tanggalperiksa=TOMORROW)) == (201, "Antrean Tidak Ditemukan")


def test_settings_keep_credentials_encrypted_and_never_show_them(
    world: World, engine: Engine, app: Any
) -> None:
    path = f"/api/v1/clinics/{world.clinic_id}/bpjs"
    empty = world.client.get(path, headers=world.clinic_admin).json()
    assert empty["enabled"] is False
    assert not any(empty[f"{name}_set"] for name in ("cons_id", "cons_secret", "user_key"))
    assert empty["endpoint_path"] == "/bpjs/fktp/KLANDASAN/"
    shown = bridge_on(world)
    read = world.client.get(path, headers=world.clinic_admin)
    for answer in (shown, read.json()):
        text = str(answer)
        for secret in ("12345", "s3cr3t-cons", "user-key-abc", BPJS_PASSWORD):
            assert secret not in text
        assert answer["cons_secret_set"]
        assert answer["password_set"]
        assert answer["username"] == "mjkn.klandasan"
    with Session(engine) as session:
        kept = session.get(BpjsSettings, world.clinic_id)
        assert kept is not None
        stored = " ".join(str(value) for value in kept.model_dump().values())
        for secret in ("s3cr3t-cons", "user-key-abc", BPJS_PASSWORD):
            assert secret not in stored
        assert (kept.password_hash or "").startswith("$argon2id$")
        clear = clear_credentials(kept, app.state.signing_key)
    assert clear is not None
    assert (clear.cons_id, clear.cons_secret, clear.user_key) == (
        "12345",
        "s3cr3t-cons",
        "user-key-abc",
    )
    # A field left out keeps its value; null clears it.
    kept_secret = world.client.put(path, headers=world.admin, json={"user_key": None}).json()
    assert (kept_secret["cons_secret_set"], kept_secret["user_key_set"]) == (True, False)
    other = World.build(world.client, code="SEPINGGAN")
    assert world.client.get(path, headers=other.clinic_admin).status_code == 403
    for address in ("ftp://x", "https://[", "https://:80/", "http://"):
        bad = world.client.put(path, headers=world.admin, json={"base_url": address})
        assert bad.status_code == 422, address
        assert bad.json()["code"] == "invalid_input"
    assert world.client.get(path, headers=world.admin).json()["base_url"] is not None


def test_a_poli_code_names_one_service_of_a_clinic(world: World) -> None:
    bridge_on(world)
    taken = world.client.patch(
        f"/api/v1/services/{world.services['D']['id']}",
        headers=world.clinic_admin,
        json={"bpjs_poli_code": "001"},
    )
    assert taken.status_code == 409
    cleared = world.client.patch(
        f"/api/v1/services/{world.services['A']['id']}",
        headers=world.clinic_admin,
        json={"bpjs_poli_code": None},
    )
    assert (cleared.status_code, cleared.json()["bpjs_poli_code"]) == (200, None)
    mjkn = MobileJkn(world).sign_in()
    assert outcome(mjkn.book()) == (201, "Poli Tidak Ditemukan")
    lower = world.client.patch(
        f"/api/v1/services/{world.services['D']['id']}",
        headers=world.clinic_admin,
        json={"bpjs_poli_code": "ana"},
    )
    assert lower.json()["bpjs_poli_code"] == "ANA"


def test_a_bridge_turned_off_answers_no_one(world: World, client: TestClient) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    off = client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs", headers=world.admin, json={"enabled": False}
    )
    assert off.status_code == 200
    assert outcome(mjkn.status()) == (201, "Token Tidak Valid")
    assert outcome(mjkn.auth()) == (201, "Username atau Password Tidak Sesuai")


def test_token_requests_are_rate_limited_in_the_envelope(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world)
    for _ in range(30):
        assert outcome(mjkn.auth(password="salah-sekali"))[0] == 201
    limited = mjkn.auth()
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["metadata"]["code"] == 429
    # Another clinic's bridge is counted apart.
    assert outcome(MobileJkn(world, code="SEPINGGAN").auth())[0] == 201


def test_card_and_nik_of_a_booking_stay_in_its_link(world: World, engine: Engine) -> None:
    bridge_on(world)
    MobileJkn(world).sign_in().book()
    with Session(engine) as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        link = session.execute(select(BpjsBooking)).scalar_one()
    assert CARD not in str(ticket.model_dump())
    assert NIK not in str(ticket.model_dump())
    assert (link.ticket_id, link.nomorkartu, link.kodepoli) == (ticket.id, CARD, "001")
    assert (link.from_mobile_jkn, link.cancelled_by_bpjs, link.nik) == (True, False, None)
