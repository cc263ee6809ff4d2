"""A clinic admin asks BPJS (the fake, in-process) for its poli and doctor lists, to map the
services to BPJS's codes: the lists in both of BPJS's shapes, and each way it can fail with
its own code, nothing sent when the bridge is not set up or the caller may not ask."""

import base64
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from httpx2 import Response
from sqlalchemy import Engine
from sqlmodel import Session

from app.bpjs import credentials
from app.bpjs.fake import FakeBpjs
from app.bpjs.outcome import Rejected
from app.config import Settings
from app.main import create_app
from app.models import OutboxKind
from app.models.bpjs import BpjsSettings
from tests.bpjs_mjkn import bridge_on
from tests.bpjs_outbox_world import FAKE_URL, fake_bpjs
from tests.clock import FakeClock
from tests.world import Json, World


class Transport(httpx.AsyncBaseTransport):
    """The fake BPJS in-process, or an exception instead (what the in-process fake cannot do:
    a timeout, a refused connection)."""

    def __init__(self, fake: FakeBpjs) -> None:
        self.fake = fake.transport()
        self.raising: Exception | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.raising is not None:
            raise self.raising
        return await self.fake.handle_async_request(request)


@pytest.fixture
def fake(clock: FakeClock) -> FakeBpjs:
    return fake_bpjs(clock)


@pytest.fixture
def transport(fake: FakeBpjs) -> Transport:
    return Transport(fake)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FakeClock, transport: Transport) -> FastAPI:
    return create_app(settings, engine=engine, clock=clock, bpjs_transport=transport)


def poli(world: World, headers: dict[str, str] | None = None, **params: str) -> Response:
    path = f"/api/v1/clinics/{world.clinic_id}/bpjs/poli"
    response: Response = world.client.get(
        path, headers=world.clinic_admin if headers is None else headers, params=params
    )
    return response


def dokter(world: World, headers: dict[str, str] | None = None, **params: str) -> Response:
    path = f"/api/v1/clinics/{world.clinic_id}/bpjs/dokter"
    response: Response = world.client.get(
        path, headers=world.clinic_admin if headers is None else headers, params=params
    )
    return response


def error(response: Response) -> tuple[int, str]:
    body: Json = response.json()
    return response.status_code, body["code"]


def reference_calls(fake: FakeBpjs) -> list[str]:
    return [call.path for call in fake.calls if call.path.startswith("/ref/")]


def test_the_poli_and_doctor_lists_come_back_in_both_of_bpjs_shapes(
    world: World, fake: FakeBpjs, clock: FakeClock
) -> None:
    bridge_on(world, base_url=FAKE_URL, enabled=False)  # mapping comes before turning it on
    # 01:00 on Tuesday in Balikpapan, still Monday in UTC: the default day is the clinic's.
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    answer = poli(world)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"][:2] == [
        {"kodepoli": "001", "namapoli": "POLI UMUM", "kdsubspesialis": None,
         "nmsubspesialis": None},
        {"kodepoli": "002", "namapoli": "POLI GIGI & MULUT", "kdsubspesialis": None,
         "nmsubspesialis": None},
    ]  # fmt: skip
    assert [row["kodepoli"] for row in answer.json()["rows"]] == ["001", "002", "003", "008"]
    assert reference_calls(fake) == ["/ref/poli/tanggal/2026-11-24"]

    doctors = dokter(world, kodepoli="001", tanggal="2026-11-25")
    assert doctors.status_code == 200, doctors.text
    assert doctors.json() == {
        "rows": [
            {"kodedokter": "101", "namadokter": "dr. Ayu Lestari", "jampraktek": "08:00-12:00",
             "kapasitas": 40},
            {"kodedokter": "102", "namadokter": "dr. Rudi Hartono", "jampraktek": "13:00-16:00",
             "kapasitas": 25},
        ]
    }  # fmt: skip
    assert reference_calls(fake)[-1] == "/ref/dokter/kodepoli/001/tanggal/2026-11-25"

    # The bare array, as BPJS also answers, with a subspecialty.
    fake.set_reference(
        shape="array",
        poli=[
            {
                "kodepoli": "INT",
                "namapoli": "PENYAKIT DALAM",
                "kdsubspesialis": "26",
                "nmsubspesialis": "PENYAKIT DALAM",
            }
        ],  # fmt: skip
        dokter={
            "INT": [{"kodedokter": "D-9", "namadokter": "dr. Nur", "jampraktek": "09:00-11:00"}]
        },
    )
    answer = poli(world, tanggal="2026-11-26")
    assert answer.json() == {
        "rows": [{"kodepoli": "INT", "namapoli": "PENYAKIT DALAM", "kdsubspesialis": "26",
                  "nmsubspesialis": "PENYAKIT DALAM"}]
    }  # fmt: skip
    doctors = dokter(world, kodepoli="int")  # a poli code is upper case, as the services keep it
    assert doctors.json() == {
        "rows": [
            {
                "kodedokter": "D-9",
                "namadokter": "dr. Nur",
                "jampraktek": "09:00-11:00",
                "kapasitas": None,
            }
        ]
    }
    assert reference_calls(fake)[-1] == "/ref/dokter/kodepoli/INT/tanggal/2026-11-24"


def test_without_usable_credentials_it_is_409_and_nothing_is_sent(
    world: World, fake: FakeBpjs, engine: Engine
) -> None:
    assert error(poli(world)) == (409, "bpjs_not_configured")
    assert error(dokter(world, kodepoli="001")) == (409, "bpjs_not_configured")
    # An address but no consumer credentials yet.
    put = world.client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs",
        headers=world.clinic_admin,
        json={"enabled": True, "base_url": FAKE_URL},
    )
    assert put.status_code == 200, put.text
    assert error(poli(world)) == (409, "bpjs_not_configured")
    # Credentials saved under another secret key no longer open.
    bridge_on(world, base_url=FAKE_URL)
    other_key = credentials.derive_key("another-secret-key", b"antrean bpjs credentials v1")
    sealed = Fernet(base64.urlsafe_b64encode(other_key)).encrypt(b"12345").decode()
    with Session(engine) as session:
        settings = session.get(BpjsSettings, world.clinic_id)
        assert settings is not None
        settings.cons_id_encrypted = sealed
        session.add(settings)
        session.commit()
    answer = poli(world)
    assert error(answer) == (409, "bpjs_not_configured")
    assert "cannot be read" in answer.json()["detail"]
    assert reference_calls(fake) == []


def test_an_address_that_is_no_url_is_not_configured(
    world: World, fake: FakeBpjs, engine: Engine
) -> None:
    # The API refuses such an address now; one kept from before is still handled.
    bridge_on(world, base_url=FAKE_URL)
    refused = world.client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs",
        headers=world.admin,
        json={"base_url": "http://bpjs.fake:port"},
    )
    assert refused.status_code == 422
    with Session(engine) as session:
        settings = session.get(BpjsSettings, world.clinic_id)
        assert settings is not None
        settings.base_url = "http://bpjs.fake:port"
        session.add(settings)
        session.commit()
    assert error(poli(world)) == (409, "bpjs_not_configured")
    assert reference_calls(fake) == []
    # The outbox, through the same clients, keeps such a row refused (it used to raise).
    sender = world.client.app.state.bpjs_sender  # type: ignore[attr-defined]
    portal = world.client.portal
    assert portal is not None
    outcome = portal.call(sender, world.clinic_id, OutboxKind.panggil, {})
    assert isinstance(outcome, Rejected)
    assert (outcome.kind, outcome.message[:26]) == ("http", "not a usable BPJS address:")


def test_bpjs_down_garbled_or_silent_is_bpjs_unavailable(
    world: World, fake: FakeBpjs, transport: Transport
) -> None:
    bridge_on(world, base_url=FAKE_URL)
    fake.fail("down")
    assert error(poli(world)) == (502, "bpjs_unavailable")
    fake.fail("garbled")
    assert error(dokter(world, kodepoli="001")) == (502, "bpjs_unavailable")
    fake.fail("garbled_response")  # a `response` that does not decrypt
    assert error(poli(world)) == (502, "bpjs_unavailable")
    fake.recover()
    transport.raising = httpx.ConnectError("connection refused")
    assert error(poli(world)) == (502, "bpjs_unavailable")
    transport.raising = httpx.ReadTimeout("no answer")
    assert error(poli(world)) == (504, "bpjs_unavailable")
    transport.raising = None
    assert poli(world).status_code == 200


def test_bpjs_refusing_is_bpjs_refused_with_its_message(world: World, fake: FakeBpjs) -> None:
    bridge_on(world, base_url=FAKE_URL, cons_secret="not-the-secret")
    answer = poli(world)
    assert error(answer) == (502, "bpjs_refused")
    assert "401" in answer.json()["detail"]
    [call] = fake.calls
    assert call.code == 401  # the fake refused the signature

    bridge_on(world, base_url=FAKE_URL)
    fake.fail("error", code=201, message="Poli Tidak Ditemukan")
    answer = dokter(world, kodepoli="999")
    assert error(answer) == (502, "bpjs_refused")
    assert answer.json()["detail"].endswith("(201): Poli Tidak Ditemukan")


def test_only_the_admin_and_the_clinics_clinic_admin_may_ask(world: World, fake: FakeBpjs) -> None:
    bridge_on(world, base_url=FAKE_URL)
    other = World.build(world.client, code="SEPINGGAN")
    for headers, status in (
        ({}, 401),
        (world.kiosk, 403),
        (world.staff, 403),
        (other.clinic_admin, 403),
        (other.staff, 403),
    ):
        assert poli(world, headers).status_code == status
        assert dokter(world, headers, kodepoli="001").status_code == status
    assert reference_calls(fake) == []
    assert poli(world, world.admin).status_code == 200


def test_a_kodepoli_that_is_not_one_is_refused_before_bpjs(world: World, fake: FakeBpjs) -> None:
    bridge_on(world, base_url=FAKE_URL)
    for bad in ("../../antrean", "00 1", "", "x" * 17):
        assert error(dokter(world, kodepoli=bad)) == (422, "invalid_input"), bad
    assert error(dokter(world)) == (422, "invalid_input")
    assert error(poli(world, tanggal="2026-13-01")) == (422, "invalid_input")
    assert reference_calls(fake) == []
