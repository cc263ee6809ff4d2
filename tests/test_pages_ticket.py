"""The patient's phone pages: the live ticket page and taking a ticket from home."""

import re
from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser import City, screenshot

PHONE = {"width": 360, "height": 740}
# Counts the page's vibration requests (a test browser has no motor).
VIBRATE_SPY = (
    "window.__vibrations = 0;"
    "navigator.vibrate = function () { window.__vibrations += 1; return true; };"
)


def phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(VIBRATE_SPY)
    return context.new_page()


def take(city: City, prefix: str, **body: Any) -> Any:
    response = httpx.post(
        f"{city.url}/api/v1/clinics/{city.clinic['id']}/tickets",
        json={"service_id": city.services[prefix]["id"], **body},
        headers={"Authorization": f"Bearer {city.kiosk_key}"},
    )
    response.raise_for_status()
    return response.json()


def call_next(city: City, counter: str, token: str) -> Any:
    return city.api("POST", f"/counters/{city.counters[counter]['id']}/call-next", token=token)


def test_phone_page_follows_the_ticket_live_until_called(browser: Any, city: City) -> None:
    take(city, "A")
    mine = take(city, "A", priority="none")
    page = phone(browser)
    page.goto(f"{city.url}/t/{mine['id']}?token={mine['token']}")
    status = page.locator("#ticket-status")
    expect(page.locator("#ticket-code")).to_have_text("A-002")
    expect(status).to_have_text("Menunggu")
    expect(status).to_have_attribute("data-status", "waiting")
    expect(page.locator("#ticket-position")).to_have_text("1 orang")
    expect(page.locator("#ticket-wait")).to_contain_text("menit")
    expect(page.locator("#ticket-service")).to_have_text("Pendaftaran")
    expect(page.locator("#btn-cancel")).to_be_visible()
    expect(page.locator("#ticket-counter")).to_be_hidden()

    staff = city.staff_token()
    call_next(city, "Loket 1", staff)  # the patient before us
    expect(page.locator("#ticket-position")).to_have_text(
        "Tidak ada, Anda berikutnya", timeout=1000
    )
    assert page.evaluate("window.__vibrations") == 0

    called = call_next(city, "Loket 2", staff)
    assert called["id"] == mine["id"]
    expect(status).to_have_attribute("data-status", "called", timeout=1000)
    expect(status).to_have_text("Dipanggil")
    expect(page.locator("#ticket-counter")).to_have_text("Silakan menuju Loket 2", timeout=1000)
    expect(page.locator("#ticket-counter")).to_be_visible()
    expect(page.locator("#btn-cancel")).to_be_hidden()
    expect(page.locator("#ticket-position")).to_be_hidden()
    assert page.evaluate("window.__vibrations") == 1
    screenshot(page, "phone-ticket")

    city.api("POST", f"/tickets/{mine['id']}/recall", token=staff)
    expect(page.locator("#ticket-recalled")).to_have_text("Dipanggil ulang (1×)", timeout=1000)
    assert page.evaluate("window.__vibrations") == 2

    city.api("POST", f"/tickets/{mine['id']}/complete", token=staff)
    expect(status).to_have_attribute("data-status", "done", timeout=1000)
    expect(page.locator("#ticket-final")).to_contain_text("Layanan sudah selesai")
    expect(page.locator("#ticket-counter")).to_be_hidden()


def test_patient_cancels_with_a_confirm_step(browser: Any, city: City) -> None:
    mine = take(city, "B")
    page = phone(browser)
    # Someone else's ticket, or no token: the not-found page, with nothing of the ticket.
    other = take(city, "A")
    for query in ("?token=wrong", "", f"?token={mine['token']}x", f"?token={other['token']}"):
        response = page.goto(f"{city.url}/t/{mine['id']}{query}")
        assert response is not None
        assert response.status == 404
        expect(page.locator("h1")).to_have_text("Halaman tidak ditemukan")
        expect(page.locator("#ticket-code")).to_have_count(0)

    page.goto(f"{city.url}/t/{mine['id']}?token={mine['token']}&lang=en")
    status = page.locator("#ticket-status")
    expect(status).to_have_text("Waiting")
    expect(page.locator("#ticket-position")).to_have_text("None, you are next")

    page.click("#btn-cancel")
    expect(page.locator("#cancel-confirm")).to_be_visible()
    page.click("#btn-cancel-no")  # changed their mind: nothing happens
    expect(page.locator("#cancel-confirm")).to_be_hidden()
    assert city.api("GET", f"/tickets/{mine['id']}")["status"] == "waiting"

    page.click("#btn-cancel")
    page.click("#btn-cancel-yes")
    expect(status).to_have_attribute("data-status", "cancelled")
    expect(status).to_have_text("Cancelled")
    expect(page.locator("#ticket-final")).to_have_text("This ticket has been cancelled.")
    expect(page.locator("#btn-cancel")).to_be_hidden()
    assert city.api("GET", f"/tickets/{mine['id']}")["status"] == "cancelled"

    page.reload()
    expect(status).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#ticket-cancel")).to_be_hidden()


def test_take_page_gives_a_phone_ticket_and_remembers_it(browser: Any, city: City) -> None:
    cid = city.clinic["id"]
    take(city, "B")
    page = phone(browser)
    page.goto(f"{city.url}/take/{cid}")
    b = page.locator(f'[data-service-id="{city.services["B"]["id"]}"]')
    expect(b).to_contain_text("Poli Umum")
    expect(b).to_contain_text("1 orang menunggu")
    expect(page.locator(f'[data-service-id="{city.services["D"]["id"]}"]')).to_have_count(0)
    expect(page.locator("#take-mine")).to_be_hidden()
    screenshot(page, "take")

    # Too many tickets from one connection: said plainly, and nothing is taken.
    def rate_limited(route: Any) -> None:
        route.fulfill(
            status=429,
            headers={"Retry-After": "45"},
            json={"detail": "Too many requests", "code": "rate_limited"},
        )

    page.route("**/api/v1/clinics/*/tickets", rate_limited)
    b.click()
    expect(page.locator("#take-error")).to_have_text(
        "Terlalu banyak nomor antrean diambil dari sambungan internet ini. "
        "Coba lagi dalam 45 detik."
    )
    page.unroute("**/api/v1/clinics/*/tickets")

    # Other refusals by their code (the English detail is not what the page reads).
    def quota_full(route: Any) -> None:
        route.fulfill(status=409, json={"detail": "Service closed", "code": "quota_full"})

    page.route("**/api/v1/clinics/*/tickets", quota_full)
    b.click()
    expect(page.locator("#take-error")).to_have_text("Kuota Poli Umum untuk hari ini sudah penuh.")
    page.unroute("**/api/v1/clinics/*/tickets")

    page.click('[data-priority="child"]')
    b.click()
    page.wait_for_url(re.compile(r"/t/\d+\?token=.+"))
    expect(page.locator("#ticket-code")).to_have_text("B-002")
    expect(page.locator("#ticket-status")).to_have_attribute("data-status", "waiting")
    ticket_id = int(re.search(r"/t/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    ticket = city.api("GET", f"/tickets/{ticket_id}", token=city.staff_token())
    assert (ticket["channel"], ticket["priority"], ticket["code"]) == ("phone", "child", "B-002")

    # Reopening the take page leads back to today's ticket.
    ticket_url = page.url
    page.goto(f"{city.url}/take/{cid}")
    mine = page.locator("#take-mine")
    expect(mine).to_be_visible()
    expect(mine).to_contain_text("B-002")
    mine.click()
    page.wait_for_url(ticket_url)
    expect(page.locator("#ticket-code")).to_have_text("B-002")

    # Once cancelled it is no longer "your ticket today".
    page.click("#btn-cancel")
    page.click("#btn-cancel-yes")
    expect(page.locator("#ticket-status")).to_have_attribute("data-status", "cancelled")
    page.goto(f"{city.url}/take/{cid}")
    expect(b).to_be_visible()
    expect(page.locator("#take-mine")).to_be_hidden()


def test_take_page_when_the_clinic_takes_no_phone_tickets(browser: Any, city: City) -> None:
    cid = city.clinic["id"]
    city.api("PATCH", f"/clinics/{cid}", json={"allow_remote_tickets": False})
    page = phone(browser)
    page.goto(f"{city.url}/take/{cid}")
    expect(page.locator("#take-not-allowed")).to_have_text(
        "Puskesmas ini tidak menerima pengambilan nomor antrean lewat HP. "
        "Silakan ambil nomor di kios antrean di puskesmas."
    )
    expect(page.locator("[data-service-id]")).to_have_count(0)

    # Switched off while the page was open: the refusal is explained the same way.
    city.api("PATCH", f"/clinics/{cid}", json={"allow_remote_tickets": True})
    page.reload()
    b = page.locator(f'[data-service-id="{city.services["B"]["id"]}"]')
    expect(b).to_be_enabled()
    city.api("PATCH", f"/clinics/{cid}", json={"allow_remote_tickets": False})
    b.click()
    expect(page.locator("#take-error")).to_contain_text("tidak menerima pengambilan nomor")
    assert city.api("GET", f"/clinics/{cid}/queue")["services"][1]["waiting"] == []


def test_take_page_keeps_the_key_after_a_server_error_so_no_second_ticket(
    browser: Any, city: City
) -> None:
    cid = city.clinic["id"]
    page = phone(browser)
    page.goto(f"{city.url}/take/{cid}")
    b = page.locator(f'[data-service-id="{city.services["B"]["id"]}"]')
    expect(b).to_be_enabled()
    keys: list[str] = []

    def proxy_fails_once(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server made the ticket; the proxy before it answers 502
            route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        else:
            route.continue_()

    page.route("**/api/v1/clinics/*/tickets", proxy_fails_once)
    b.click()
    expect(page.locator("#take-error")).to_contain_text("tidak akan mendapat nomor ganda")
    expect(page.locator("#take-error")).to_contain_text("Server sedang mengalami gangguan")
    b.click()  # touched again: the same request, so the same ticket
    page.wait_for_url(re.compile(r"/t/\d+\?token=.+"))
    expect(page.locator("#ticket-code")).to_have_text("B-001")
    assert len(keys) == 2
    assert keys[0] == keys[1]
    queue = httpx.get(f"{city.url}/api/v1/clinics/{cid}/queue").json()
    b_queue = next(s for s in queue["services"] if s["service_id"] == city.services["B"]["id"])
    assert [t["code"] for t in b_queue["waiting"]] == ["B-001"]
