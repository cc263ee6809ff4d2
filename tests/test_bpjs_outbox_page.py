"""The admin page's BPJS tab in a real browser against a real server and the fake BPJS: the
clinic admin turns the bridge on, fetches BPJS's poli list, maps a service to a BPJS poli, sees
a call BPJS refused with BPJS's message and the card masked, and sends it again."""

import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from app.bpjs.fake import FakeBpjs, FakeBpjsServer
from tests.bpjs_outbox_world import CONSUMER
from tests.browser import City, csp_violations, enforce_csp
from tests.test_pages_admin import log_in

CLINIC_ADMIN = ("klandasan.admin", "admin-klandasan-2026")
BPJS_LOGIN = ("mjkn.klandasan", "rahasia-bpjs-2026")
CARD = "0001234567890"


@pytest.fixture
def fake_server() -> Iterator[tuple[FakeBpjs, str]]:
    fake = FakeBpjs([CONSUMER])
    with FakeBpjsServer(fake) as server:
        yield fake, server.url


def book_and_call(city: City) -> None:
    """Mobile JKN books the poli (service B) and the poli's room calls the patient."""
    base = f"{city.url}/bpjs/fktp/{city.clinic['code']}"
    login = {"x-username": BPJS_LOGIN[0], "x-password": BPJS_LOGIN[1]}
    token = httpx.get(f"{base}/auth", headers=login, timeout=10).json()["response"]["token"]
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))  # WITA
    booking = {
        "nomorkartu": CARD,
        "nik": "6471012301900001",
        "kodepoli": "001",
        "tanggalperiksa": today,
        "keluhan": "batuk",
        "kodedokter": 101,
        "jampraktek": "08:00-12:00",
        "norm": "RM-1",
        "nohp": "081234567890",
    }
    headers = {"x-token": token, "x-username": BPJS_LOGIN[0]}
    answer = httpx.post(f"{base}/antrean", headers=headers, json=booking, timeout=10).json()
    assert answer["metadata"]["code"] == 200, answer
    counter = city.counters["Ruang Periksa 1"]["id"]
    city.api("POST", f"/counters/{counter}/call-next", token=city.staff_token())


def outbox_states(city: City) -> list[str]:
    page = city.api("GET", f"/clinics/{city.clinic['id']}/bpjs/outbox")
    return [item["state"] for item in page["items"]]


def wait_for_state(city: City, state: str) -> None:
    deadline = time.monotonic() + 15
    while outbox_states(city) != [state]:
        assert time.monotonic() < deadline, outbox_states(city)
        time.sleep(0.1)


def test_the_clinic_admin_turns_the_bridge_on_and_sends_a_refused_call_again(
    browser: Any, city: City, fake_server: tuple[FakeBpjs, str]
) -> None:
    fake, fake_url = fake_server
    cid = city.clinic["id"]
    city.api(
        "POST",
        "/users",
        json={
            "username": CLINIC_ADMIN[0],
            "password": CLINIC_ADMIN[1],
            "role": "clinic_admin",
            "clinic_id": cid,
        },
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    enforce_csp(context)
    page = context.new_page()
    log_in(page, city, *CLINIC_ADMIN)
    page.click("#tab-bpjs")
    expect(page.locator("#bpjs-endpoint")).to_contain_text("/bpjs/fktp/KLANDASAN-ILIR/")
    expect(page.locator("#bpjs-outbox-empty")).to_be_visible()

    # The bridge's settings: the secrets are sent once and never shown back.
    page.check("#bpjs-enabled")
    page.fill("#bpjs-base-url", fake_url)
    page.fill("#bpjs-cons-id", CONSUMER.cons_id)
    page.fill("#bpjs-cons-secret", CONSUMER.cons_secret)
    page.fill("#bpjs-user-key", CONSUMER.user_key)
    page.fill("#bpjs-username", BPJS_LOGIN[0])
    page.fill("#bpjs-password", BPJS_LOGIN[1])
    page.click("#bpjs-save")
    expect(page.locator("#bpjs-form-done")).to_be_visible()
    expect(page.locator("#bpjs-cons-secret")).to_have_value("")
    expect(page.locator("#bpjs-cons-secret")).to_have_attribute(
        "placeholder", "Sudah diisi (kosong: tetap)"
    )
    settings = city.api("GET", f"/clinics/{cid}/bpjs")
    assert settings["enabled"] is True
    assert settings["cons_secret_set"] is True

    # BPJS's own poli list, asked live: its codes become the poli code fields' choices.
    page.click("#bpjs-ref-fetch")
    expect(page.locator("#bpjs-ref-table tr[data-kodepoli='001']")).to_contain_text("POLI UMUM")
    expect(page.locator("#bpjs-ref-choices option[value='002']")).to_have_count(1)
    expect(page.locator("#bpjs-ref-error")).to_be_hidden()

    # Poli Umum takes Mobile JKN's bookings for poli 001; a second service cannot have it too.
    poli_umum = page.locator("#bpjs-poli-table tr[data-prefix='B']")
    poli_umum.locator("input").fill("001")
    poli_umum.locator("button").click()
    expect(poli_umum).to_have_attribute("data-saved", "1")
    expect(page.locator("#bpjs-poli-error")).to_be_hidden()
    gigi = page.locator("#bpjs-poli-table tr[data-prefix='C']")
    gigi.locator("input").fill("001")
    gigi.locator("button").click()
    expect(page.locator("#bpjs-poli-error")).to_have_text(
        "Layanan lain di puskesmas ini sudah memakai kode poli BPJS ini."
    )
    codes = {s["prefix"]: s["bpjs_poli_code"] for s in city.api("GET", f"/clinics/{cid}/services")}
    assert codes == {"A": None, "B": "001", "C": None, "D": None}

    # BPJS refuses the call of a booked patient: it waits, failed, for the admin.
    fake.fail("error", code=201, message="Pendaftaran ke Poli Ini Sedang Tutup", count=1)
    book_and_call(city)
    wait_for_state(city, "failed")
    page.click("#bpjs-outbox-refresh")
    row = page.locator("#bpjs-outbox-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-state", "failed")
    expect(row).to_contain_text("Dipanggil: hadir (panggil 1)")
    expect(row).to_contain_text("201: Pendaftaran ke Poli Ini Sedang Tutup")
    expect(row).to_contain_text("*********7890")
    expect(page.locator("#bpjs-outbox-counts")).to_contain_text("1 gagal")
    assert CARD not in page.content()

    # Sent again: BPJS takes it this time.
    row.locator("button[data-retry]").click()
    wait_for_state(city, "delivered")
    page.click("#bpjs-outbox-refresh")
    expect(row).to_have_attribute("data-state", "delivered")
    expect(row).to_contain_text("Terkirim")
    expect(row.locator("button[data-retry]")).to_have_count(0)
    taken = [c for c in fake.calls if c.path == "/antrean/panggil" and c.code == 200]
    assert [c.body["nomorkartu"] for c in taken] == [CARD]
    assert csp_violations(page) == []
