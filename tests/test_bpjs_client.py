"""The BPJS client against the fake BPJS: what each call sends, what it makes of each answer
(delivered, refused by BPJS, or to try again later), over ASGI and over a real socket."""

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.bpjs.calls import AddAntrean, Batal, Panggil, PanggilStatus
from app.bpjs.client import (
    BpjsClient,
    Credentials,
    Delivered,
    RefDokter,
    RefPoli,
    Rejected,
    Transient,
)
from app.bpjs.fake import Consumer, FakeBpjs, FakeBpjsServer
from app.bpjs.fake.state import Shape
from tests.server import free_port

pytestmark = pytest.mark.anyio

CARD = "0001234567890"
NIK = "3212345678987654"
# Tomorrow in BPJS's own calendar: never "in the past", whatever the hour here.
DAY = datetime.now(ZoneInfo("Asia/Jakarta")).date() + timedelta(days=1)


@pytest.fixture
def fake() -> FakeBpjs:
    return FakeBpjs()


@pytest.fixture
async def client(fake: FakeBpjs) -> AsyncIterator[BpjsClient]:
    async with BpjsClient(fake.credentials("http://bpjs.test"), transport=fake.transport()) as c:
        yield c


@pytest.fixture
def server(fake: FakeBpjs) -> Iterator[FakeBpjsServer]:
    with FakeBpjsServer(fake) as running:
        yield running


def add_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "nomorkartu": CARD,
        "nik": NIK,
        "nohp": "081234567890",
        "kodepoli": "001",
        "namapoli": "POLI UMUM",
        "norm": "RM-000123",
        "tanggalperiksa": DAY,
        "kodedokter": "101",
        "namadokter": "dr. Ayu Lestari",
        "jampraktek": "08:00-12:00",
        "nomorantrean": "A-012",
        "angkaantrean": 12,
        "keterangan": "",
    }
    return fields | changes


@pytest.mark.parametrize("shape", ["list", "array"])
async def test_ref_poli_in_either_shape(fake: FakeBpjs, client: BpjsClient, shape: Shape) -> None:
    fake.set_reference(
        poli=[
            {
                "namapoli": "POLI UMUM",
                "nmsubspesialis": "AKUPUNTUR MEDIK",
                "kdsubspesialis": "AKP",
                "kodepoli": "001",
            },
            {"namapoli": "KLASTER 2", "kodepoli": "003"},
        ],
        shape=shape,
    )
    outcome = await client.ref_poli(DAY)
    assert outcome == Delivered(
        [RefPoli("001", "POLI UMUM", "AKP", "AKUPUNTUR MEDIK"), RefPoli("003", "KLASTER 2")]
    )
    [call] = fake.calls
    assert (call.method, call.path, call.body) == ("GET", f"/ref/poli/tanggal/{DAY}", None)
    assert call.cons_id == fake.consumer.cons_id
    assert call.timestamp is not None
    assert abs(int(call.timestamp) - time.time()) < 5


@pytest.mark.parametrize("shape", ["list", "array"])
async def test_ref_dokter_in_either_shape(fake: FakeBpjs, client: BpjsClient, shape: Shape) -> None:
    fake.set_reference(shape=shape)
    outcome = await client.ref_dokter("002", DAY)
    assert outcome == Delivered([RefDokter(201, "drg. Budi Santoso", "08:00-12:00", 20)])
    assert fake.calls[-1].path == f"/ref/dokter/kodepoli/002/tanggal/{DAY}"


async def test_ref_dokter_of_an_unknown_poli_is_refused(client: BpjsClient) -> None:
    assert await client.ref_dokter("999", DAY) == Rejected(201, "Poli Tidak Ditemukan")


async def test_add_antrean_sends_bpjs_fields_and_a_resend_counts_as_delivered(
    fake: FakeBpjs, client: BpjsClient
) -> None:
    assert await client.deliver(AddAntrean(**add_fields())) == Delivered(None)
    body = fake.calls[-1].body
    assert body == {
        "nomorkartu": CARD,
        "nik": NIK,
        "nohp": "081234567890",
        "kodepoli": "001",
        "namapoli": "POLI UMUM",
        "norm": "RM-000123",
        "tanggalperiksa": DAY.isoformat(),
        "kodedokter": 101,
        "namadokter": "dr. Ayu Lestari",
        "jampraktek": "08:00-12:00",
        "nomorantrean": "A-012",
        "angkaantrean": 12,
        "keterangan": "",
    }
    assert [(a.nomorkartu, a.status) for a in fake.antrean_list()] == [(CARD, "terdaftar")]
    # The same again (its first answer lost on the way): BPJS already has it.
    again = await client.deliver(AddAntrean(**add_fields()))
    assert isinstance(again, Delivered)
    assert again.duplicate
    assert again.code == 201
    assert len(fake.antrean_list()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nik": "32123"}, "NIK harus 16 digit"),
        ({"nomorkartu": "123"}, "Nomor kartu harus 13 digit"),
        ({"tanggalperiksa": DAY - timedelta(days=3)}, "Tanggal Periksa Tidak Berlaku Mundur"),
        ({"kodepoli": "999"}, "Poli Tidak Ditemukan"),
        ({"kodedokter": 999}, "Dokter Tidak Ditemukan"),
        ({"jampraktek": "8-12"}, "Format Jam Praktek Tidak Sesuai"),
        ({"angkaantrean": 0}, "Angka Antrean Tidak Sesuai"),
    ],
)
async def test_add_antrean_refused_by_bpjs_rules_changes_nothing(
    fake: FakeBpjs, client: BpjsClient, changes: dict[str, Any], message: str
) -> None:
    outcome = await client.deliver(AddAntrean(**add_fields(**changes)))
    assert isinstance(outcome, Rejected)
    assert (outcome.kind, outcome.code, outcome.retryable) == ("business", 201, False)
    assert outcome.message.startswith(message)
    assert fake.antrean_list() == []


async def test_panggil_and_batal_send_their_fields(fake: FakeBpjs, client: BpjsClient) -> None:
    await client.deliver(AddAntrean(**add_fields()))
    waktu = int(time.time() * 1000)
    outcome = await client.deliver(
        Panggil(
            tanggalperiksa=DAY,
            kodepoli="001",
            nomorkartu=CARD,
            status=PanggilStatus.HADIR,
            waktu=waktu,
        )
    )
    assert outcome == Delivered(None)
    assert fake.calls[-1].path == "/antrean/panggil"
    assert fake.calls[-1].body == {
        "tanggalperiksa": DAY.isoformat(),
        "kodepoli": "001",
        "nomorkartu": CARD,
        "status": 1,
        "waktu": waktu,
    }
    # Served: BPJS no longer lets it be cancelled.
    served = await client.deliver(
        Batal(tanggalperiksa=DAY, kodepoli="001", nomorkartu=CARD, alasan="x")
    )
    assert served == Rejected(201, "Pasien Sudah Dilayani, Antrean Tidak Dapat Dibatalkan")
    other = "0009876543210"
    outcome = await client.deliver(
        Batal(tanggalperiksa=DAY, kodepoli="001", nomorkartu=other, alasan="Jadwal dokter berubah")
    )
    assert outcome == Delivered(None)
    assert fake.calls[-1].path == "/antrean/batal"
    assert fake.calls[-1].body == {
        "tanggalperiksa": DAY.isoformat(),
        "kodepoli": "001",
        "nomorkartu": other,
        "alasan": "Jadwal dokter berubah",
    }
    statuses = {a.nomorkartu: a.status for a in fake.antrean_list()}
    assert statuses == {CARD: "hadir", other: "batal"}


async def test_panggil_in_seconds_instead_of_milliseconds_is_refused(client: BpjsClient) -> None:
    outcome = await client.deliver(
        Panggil(
            tanggalperiksa=DAY,
            kodepoli="001",
            nomorkartu=CARD,
            status=PanggilStatus.TIDAK_HADIR,
            waktu=int(time.time()),
        )
    )
    assert isinstance(outcome, Rejected)
    assert outcome.message.startswith("Format Waktu")


@pytest.mark.parametrize(
    ("credentials", "clock_offset", "message"),
    [
        ({"cons_secret": "not-it"}, 0, "Signature tidak valid"),
        ({"user_key": "not-it"}, 0, "User key tidak valid"),
        ({"cons_id": "someone-else"}, 0, "Consumer ID tidak terdaftar"),
        ({}, 3600, "Timestamp kedaluwarsa, periksa jam server"),
    ],
)
async def test_a_call_bpjs_cannot_authenticate_is_refused_and_changes_nothing(
    fake: FakeBpjs, credentials: dict[str, str], clock_offset: float, message: str
) -> None:
    good = fake.credentials("http://bpjs.test")
    wrong = Credentials(**{**good.__dict__, **credentials})
    async with BpjsClient(
        wrong, transport=fake.transport(), clock=lambda: time.time() - clock_offset
    ) as client:
        outcome = await client.deliver(AddAntrean(**add_fields()))
    assert outcome == Rejected(401, message, kind="auth")
    assert fake.antrean_list() == []
    assert (fake.calls[-1].code, fake.calls[-1].message) == (401, message)


async def test_each_clinic_signs_with_its_own_consumer() -> None:
    first, second = Consumer("c1", "s1", "k1"), Consumer("c2", "s2", "k2")
    fake = FakeBpjs([first, second])
    for consumer in (first, second):
        credentials = fake.credentials("http://bpjs.test", consumer)
        async with BpjsClient(credentials, transport=fake.transport()) as client:
            assert isinstance(await client.ref_poli(DAY), Delivered)
    assert [call.cons_id for call in fake.calls] == ["c1", "c2"]


async def test_bpjs_down_is_transient_until_it_recovers(fake: FakeBpjs, client: BpjsClient) -> None:
    fake.fail("down", count=2)
    for _ in range(2):
        assert await client.deliver(AddAntrean(**add_fields())) == Transient("server", "HTTP 503")
    assert fake.antrean_list() == []
    assert await client.deliver(AddAntrean(**add_fields())) == Delivered(None)


async def test_business_error_is_rejected_and_screening_is_worth_retrying(
    fake: FakeBpjs, client: BpjsClient
) -> None:
    fake.fail("error", code=201, message="Pendaftaran ke Poli Ini Sedang Tutup", count=1)
    assert await client.deliver(AddAntrean(**add_fields())) == Rejected(
        201, "Pendaftaran ke Poli Ini Sedang Tutup"
    )
    screening = "Anda belum melakukan skrining kesehatan. Mohon untuk melakukan skrining"
    fake.fail("error", code=201, message=screening, count=1)
    outcome = await client.deliver(AddAntrean(**add_fields()))
    assert outcome == Rejected(201, screening, retryable=True)
    assert fake.antrean_list() == []


async def test_garbled_answers_are_transient(fake: FakeBpjs, client: BpjsClient) -> None:
    fake.fail("garbled", count=1)
    outcome = await client.deliver(AddAntrean(**add_fields()))
    assert isinstance(outcome, Transient)
    assert outcome.reason == "garbled"
    fake.fail("garbled_response", count=1)
    outcome = await client.ref_poli(DAY)
    assert outcome == Transient("garbled", "response does not open with this call's key")
    assert isinstance(await client.ref_poli(DAY), Delivered)


async def test_pcare_spelling_metadata_is_read_too(fake: FakeBpjs, client: BpjsClient) -> None:
    fake.metadata_key = "metaData"
    assert isinstance(await client.ref_poli(DAY), Delivered)
    assert await client.ref_dokter("999", DAY) == Rejected(201, "Poli Tidak Ditemukan")


async def test_a_wrong_address_is_rejected_not_retried(fake: FakeBpjs) -> None:
    credentials = fake.credentials("http://bpjs.test/antreanfktp_typo")
    async with BpjsClient(credentials, transport=fake.transport()) as client:
        assert await client.ref_poli(DAY) == Rejected(404, "HTTP 404", kind="http")


async def test_an_address_that_is_not_one_is_rejected(fake: FakeBpjs) -> None:
    async with BpjsClient(fake.credentials("bpjs.example/antreanfktp")) as client:
        outcome = await client.ref_poli(DAY)
    assert isinstance(outcome, Rejected)
    assert (outcome.kind, outcome.code) == ("http", 0)
    assert outcome.message.startswith("not a usable BPJS address")


async def test_a_timeout_is_transient_and_the_resend_finds_it_taken(
    fake: FakeBpjs, server: FakeBpjsServer
) -> None:
    async with BpjsClient(fake.credentials(server.url), timeout=0.3) as client:
        fake.fail("slow", seconds=1.0, count=1)
        started = time.monotonic()
        outcome = await client.deliver(AddAntrean(**add_fields()))
        assert time.monotonic() - started < 0.9
        assert outcome == Transient("timeout", "ReadTimeout: no answer in time")
        # BPJS took it all the same, once its wait was over.
        for _ in range(100):
            if fake.antrean_list():
                break
            await asyncio.sleep(0.01)
        again = await client.deliver(AddAntrean(**add_fields()))
        assert isinstance(again, Delivered)
        assert again.duplicate


async def test_a_refused_connection_is_transient(fake: FakeBpjs, server: FakeBpjsServer) -> None:
    async with BpjsClient(fake.credentials(server.url), timeout=2) as client:
        assert isinstance(await client.ref_poli(DAY), Delivered)
        server.stop()
        outcome = await client.ref_poli(DAY)
        assert isinstance(outcome, Transient)
        assert outcome.reason == "connect"
        server.start()
        assert isinstance(await client.ref_poli(DAY), Delivered)


@pytest.mark.slow
async def test_fake_as_its_own_process_is_steered_over_its_control_paths() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.bpjs.fake",
            "--port",
            str(port),
            "--cons-id",
            "77",
            "--secret",
            "rahasia",
            "--user-key",
            "uk",
            "--shape",
            "array",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as control:
            for _ in range(200):
                try:
                    await control.get("/_fake/calls")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            credentials = Credentials("77", "rahasia", "uk", url)
            async with BpjsClient(credentials) as client:
                assert isinstance(await client.ref_poli(DAY), Delivered)
                answer = await control.put("/_fake/failure", json={"mode": "down"})
                assert answer.status_code == 200
                assert await client.ref_poli(DAY) == Transient("server", "HTTP 503")
                await control.delete("/_fake/failure")
                await control.put(
                    "/_fake/failure", json={"mode": "error", "message": "Libur", "count": 1}
                )
                assert await client.ref_poli(DAY) == Rejected(201, "Libur")
                assert isinstance(await client.ref_poli(DAY), Delivered)
                refused = await control.put("/_fake/failure", json={"mode": "on fire"})
                assert refused.status_code == 400
            calls = (await control.get("/_fake/calls")).json()["calls"]
            assert [(c["http_status"], c["code"], c["message"]) for c in calls] == [
                (200, 200, "Ok"),
                (503, None, "down"),
                (200, 201, "Libur"),
                (200, 200, "Ok"),
            ]
            assert all(c["path"] == f"/ref/poli/tanggal/{DAY}" for c in calls)
    finally:
        process.terminate()
        process.wait(10)


async def test_a_long_reference_list_arrives_whole(fake: FakeBpjs, client: BpjsClient) -> None:
    doctors = [
        {"namadokter": f"dr. Dokter {i}", "kodedokter": 1000 + i, "jampraktek": "08:00-12:00"}
        for i in range(300)
    ]
    fake.set_reference(dokter={"001": doctors})
    outcome = await client.ref_dokter("001", DAY)
    assert isinstance(outcome, Delivered)
    assert [d.kodedokter for d in outcome.value] == list(range(1000, 1300))
    assert outcome.value[-1] == RefDokter(1299, "dr. Dokter 299", "08:00-12:00", None)
