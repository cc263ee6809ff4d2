"""The kiosk page and the printed ticket, in Chromium against a real server."""

import re
from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from app.web.qr import qr_svg
from tests.browser import City, csp_violations, enforce_csp, screenshot

KIOSK_VIEW = {"width": 1280, "height": 800}
MM = 96 / 25.4  # CSS pixels per millimetre


def open_kiosk(browser: Any, city: City, query: str = "", clock: bool = False) -> Any:
    """A fresh kiosk browser with its key entered (as the admin does once). With clock, the
    page's timers run on Playwright's clock, which the test can move forward."""
    page = browser.new_context(viewport=KIOSK_VIEW).new_page()
    if clock:
        page.clock.install()
    page.goto(f"{city.url}/kiosk/{city.clinic['id']}{query}")
    page.fill("#kiosk-key-input", city.kiosk_key)
    page.click("#kiosk-key-submit")
    expect(tile(page, city, "A")).to_be_visible()
    return page


def tile(page: Any, city: City, prefix: str) -> Any:
    return page.locator(f'[data-service-id="{city.services[prefix]["id"]}"]')


def take_via_api(city: City, prefix: str, **body: Any) -> Any:
    return city.api(
        "POST",
        f"/clinics/{city.clinic['id']}/tickets",
        json={"service_id": city.services[prefix]["id"], **body},
    )


def test_kiosk_asks_for_its_key_refuses_others_and_remembers_it(browser: Any, city: City) -> None:
    page = browser.new_context(viewport=KIOSK_VIEW).new_page()
    page.goto(f"{city.url}/kiosk/{city.clinic['id']}")
    expect(page.locator("#kiosk-key-input")).to_be_visible()
    expect(page.locator("[data-service-id]")).to_have_count(0)
    error = page.locator("#kiosk-key-error")

    page.fill("#kiosk-key-input", "not-a-key-at-all")
    page.click("#kiosk-key-submit")
    expect(error).to_contain_text("Kunci ini tidak dikenal")

    page.fill("#kiosk-key-input", city.display_key)
    page.click("#kiosk-key-submit")
    expect(error).to_contain_text("bukan kunci kios")

    page.fill("#kiosk-key-input", city.staff_token())
    page.click("#kiosk-key-submit")
    expect(error).to_contain_text("bukan kunci kios")
    expect(page.locator("#kiosk-main")).to_be_hidden()

    page.fill("#kiosk-key-input", city.kiosk_key)
    page.click("#kiosk-key-submit")
    expect(tile(page, city, "A")).to_be_visible()
    expect(page.locator("#kiosk-key-input")).to_be_hidden()

    page.reload()
    expect(tile(page, city, "A")).to_be_visible()
    expect(page.locator("#kiosk-key-input")).to_be_hidden()

    # Staff reset it with the discreet control (held for 2 s) and a confirm step.
    page.click("#kiosk-settings-open")  # a tap alone opens nothing
    page.wait_for_timeout(300)
    expect(page.locator("#kiosk-settings")).to_be_hidden()
    page.hover("#kiosk-settings-open")
    page.mouse.down()
    page.wait_for_timeout(2200)
    page.mouse.up()
    expect(page.locator("#kiosk-settings")).to_be_visible()
    expect(page.locator("#kiosk-device-name")).to_contain_text("Kios pintu masuk")
    page.click("#kiosk-reset-key")
    page.click("#kiosk-reset-yes")
    expect(page.locator("#kiosk-key-input")).to_be_visible()
    page.reload()
    expect(page.locator("#kiosk-key-input")).to_be_visible()


def test_kiosk_tiles_show_counts_quota_full_and_closed(browser: Any, city: City) -> None:
    take_via_api(city, "A")
    take_via_api(city, "A")
    page = open_kiosk(browser, city)
    a = tile(page, city, "A")
    expect(a).to_contain_text("Pendaftaran")
    expect(a).to_contain_text("2 orang menunggu")
    expect(a).to_contain_text("Perkiraan tunggu")
    expect(tile(page, city, "B")).to_contain_text("Tidak ada antrean")
    expect(tile(page, city, "D")).to_have_count(0)  # transfer-only: not at the kiosk
    expect(page.locator("[data-service-id]")).to_have_count(3)

    # Counts follow the feed: another ticket taken elsewhere shows up by itself.
    take_via_api(city, "A")
    expect(a).to_contain_text("3 orang menunggu", timeout=3000)

    c = tile(page, city, "C")
    expect(c).to_be_enabled()
    take_via_api(city, "C")
    take_via_api(city, "C")
    expect(c).to_contain_text("Kuota hari ini penuh", timeout=3000)
    expect(c).to_be_disabled()

    b = tile(page, city, "B")
    expect(b).to_be_enabled()
    city.api("PATCH", f"/services/{city.services['B']['id']}", json={"is_open": False})
    expect(b).to_contain_text("Tutup", timeout=3000)
    expect(b).to_be_disabled()
    expect(a).to_be_enabled()
    screenshot(page, "kiosk")


def test_kiosk_tap_takes_one_ticket_shows_and_prints_it(browser: Any, city: City) -> None:
    page = open_kiosk(browser, city, "?paper=80")
    cid = city.clinic["id"]

    # A refusal is said in plain words, chosen by its code: the English detail is not read
    # (here it even says something else).
    def refuse(code: str) -> Any:
        def handler(route: Any) -> None:
            route.fulfill(status=409, json={"detail": "Transfer only; closed", "code": code})

        return handler

    page.route("**/api/v1/clinics/*/tickets", refuse("quota_full"))
    tile(page, city, "B").click()
    expect(page.locator("#kiosk-failed-text")).to_have_text(
        "Kuota Poli Umum untuk hari ini sudah penuh. Silakan tanyakan kepada petugas."
    )
    page.click("#kiosk-failed-close")
    page.unroute("**/api/v1/clinics/*/tickets")
    page.route("**/api/v1/clinics/*/tickets", refuse("service_closed"))
    tile(page, city, "B").click()
    expect(page.locator("#kiosk-failed-text")).to_have_text("Layanan Poli Umum sedang tutup.")
    page.click("#kiosk-failed-close")
    page.unroute("**/api/v1/clinics/*/tickets")

    # The first answer is lost on the way back (the ticket was made): the retry, with the same
    # Idempotency-Key, gets that same ticket and no second one.
    keys: list[str] = []

    def lose_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/v1/clinics/*/tickets", lose_first_answer)
    page.click('[data-priority="elderly"]')
    expect(page.locator('[data-priority="elderly"]')).to_have_attribute("aria-pressed", "true")
    tile(page, city, "A").click()
    expect(page.locator("#kiosk-failed-text")).to_contain_text("tidak akan mendapat nomor ganda")
    page.click("#kiosk-retry")

    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-001")
    expect(page.locator("#kiosk-ticket-service")).to_have_text("Pendaftaran")
    expect(page.locator("#kiosk-ticket-priority")).to_have_text("Lansia")
    expect(page.locator("#kiosk-ticket-ahead")).to_have_text("Tidak ada, Anda berikutnya")
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(keys[0]) >= 16
    queue = city.api("GET", f"/clinics/{cid}/queue")
    waiting_a = next(s for s in queue["services"] if s["service_id"] == city.services["A"]["id"])
    assert [t["code"] for t in waiting_a["waiting"]] == ["A-001"]
    ticket_id = waiting_a["waiting"][0]["id"]
    ticket = city.api("GET", f"/tickets/{ticket_id}", token=city.staff_token())
    assert ticket["priority"] == "elderly"
    assert ticket["channel"] == "kiosk"
    screenshot(page, "kiosk-ticket")

    # The ticket prints through the hidden frame, on the remembered paper width.
    frame = page.locator("#print-frame")
    expect(frame).to_have_attribute("src", re.compile(rf"^/t/{ticket_id}/print\?token=.+&paper=80"))
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-001")
    expect(page.frame_locator("#print-frame").locator("svg")).to_have_count(1)

    # Priority goes back to Umum after each ticket; the next tap is a new ticket.
    expect(page.locator('[data-priority="none"]')).to_have_attribute("aria-pressed", "true")
    page.unroute("**/api/v1/clinics/*/tickets")
    page.click("#kiosk-confirm-close")
    tile(page, city, "A").click()
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-002")
    expect(page.locator("#kiosk-ticket-ahead")).to_have_text("1 orang")
    expect(page.locator("#kiosk-ticket-priority")).to_be_hidden()
    second = city.api("GET", f"/tickets/{ticket_id + 1}", token=city.staff_token())
    assert (second["code"], second["priority"]) == ("A-002", "none")

    # The paper width is remembered by the kiosk: without ?paper= it stays 80.
    page.reload()
    expect(tile(page, city, "A")).to_be_enabled()
    tile(page, city, "A").click()
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-003")
    expect(frame).to_have_attribute("src", re.compile(r"&paper=80&"))


def test_kiosk_offline_banner_while_the_server_is_down(browser: Any, city: City) -> None:
    page = open_kiosk(browser, city)
    banner = page.locator("#kiosk-offline")
    expect(banner).to_be_hidden()
    city.server.stop()
    expect(banner).to_be_visible(timeout=5000)
    expect(banner).to_contain_text("tiket belum dapat diambil")
    expect(tile(page, city, "A")).to_be_disabled()
    city.server.start()
    expect(banner).to_be_hidden(timeout=10000)
    expect(tile(page, city, "A")).to_be_enabled()
    tile(page, city, "A").click()
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-001")


def waiting(city: City, prefix: str) -> list[Any]:
    """The service's waiting tickets, as anyone may read them."""
    response = httpx.get(f"{city.url}/api/v1/clinics/{city.clinic['id']}/queue")
    response.raise_for_status()
    services = response.json()["services"]
    service = next(s for s in services if s["service_id"] == city.services[prefix]["id"])
    return list(service["waiting"])


def waiting_codes(city: City, prefix: str) -> list[str]:
    return [ticket["code"] for ticket in waiting(city, prefix)]


def test_kiosk_prints_each_ticket_in_a_new_frame_kept_out_of_its_history(
    browser: Any, city: City
) -> None:
    # Earlier tickets must not come back with the system Back button: they would print again,
    # with the QR code that lets anyone cancel them.
    page = open_kiosk(browser, city, clock=True)
    history_before = page.evaluate("history.length")
    frames = page.locator("iframe")

    tile(page, city, "A").click()
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-001")
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-001")
    page.click("#kiosk-confirm-close")
    tile(page, city, "A").click()
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-002")
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-002")
    assert page.evaluate("history.length") == history_before
    expect(frames).to_have_count(1)  # the first ticket's frame is gone
    second = waiting(city, "A")[1]
    expect(page.locator("#print-frame")).to_have_attribute(
        "src", re.compile(rf"^/t/{second['id']}/print\?token=.+&autoprint=1$")
    )

    # A minute later the shared kiosk holds no ticket's address (nor its token) any more.
    page.clock.fast_forward("01:05")
    expect(frames).to_have_count(0)
    assert page.evaluate("history.length") == history_before
    page.go_back()
    assert "/print" not in page.url


def test_kiosk_keeps_the_key_after_a_server_error_so_no_second_ticket(
    browser: Any, city: City
) -> None:
    page = open_kiosk(browser, city)
    keys: list[str] = []

    def proxy_fails(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server made the ticket; the proxy before it answers 502
            route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        elif len(keys) == 2:
            route.fulfill(status=503, content_type="text/html", body="<h1>503</h1>")
        else:
            route.continue_()

    page.route("**/api/v1/clinics/*/tickets", proxy_fails)
    tile(page, city, "A").click()
    failed = page.locator("#kiosk-failed-text")
    expect(page.locator("#kiosk-retry")).to_be_visible()
    expect(failed).to_contain_text("Server sedang mengalami gangguan")
    expect(failed).to_contain_text("tidak akan mendapat nomor ganda")
    page.click("#kiosk-retry")  # 503 this time: still the same key kept
    expect(failed).to_contain_text("Server sedang mengalami gangguan")
    expect(page.locator("#kiosk-retry")).to_be_visible()
    assert len(keys) == 2
    page.click("#kiosk-failed-close")
    tile(page, city, "A").click()  # the same tile again, shortly after: the same request
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-001")
    assert len(keys) == 3
    assert keys[0] == keys[1] == keys[2]
    assert waiting_codes(city, "A") == ["A-001"]

    # A refusal (4xx) made nothing: the next tap is a new request with a new key.
    page.click("#kiosk-confirm-close")
    page.unroute("**/api/v1/clinics/*/tickets")
    refused: list[str] = []

    def refuse_once(route: Any) -> None:
        refused.append(route.request.headers["idempotency-key"])
        if len(refused) == 1:
            route.fulfill(
                status=429,
                headers={"Retry-After": "30"},
                json={"detail": "Too many requests", "code": "rate_limited"},
            )
        else:
            route.continue_()

    page.route("**/api/v1/clinics/*/tickets", refuse_once)
    tile(page, city, "A").click()
    expect(failed).to_have_text("Terlalu banyak permintaan. Coba lagi dalam 30 detik.")
    expect(page.locator("#kiosk-retry")).to_be_hidden()
    page.click("#kiosk-failed-close")
    tile(page, city, "A").click()
    expect(page.locator("#kiosk-ticket-code")).to_have_text("A-002")
    assert refused[0] != refused[1]
    assert waiting_codes(city, "A") == ["A-001", "A-002"]


def test_kiosk_reprints_and_says_plainly_when_a_ticket_did_not_print(
    browser: Any, city: City
) -> None:
    page = open_kiosk(browser, city, clock=True)
    code = page.locator("#kiosk-ticket-code")
    confirm = page.locator("#kiosk-confirm")
    print_failed = page.locator("#kiosk-print-failed")
    loads: list[str] = []

    def count(route: Any) -> None:
        loads.append(route.request.url)
        route.continue_()

    page.route("**/t/*/print?*", count)
    tile(page, city, "A").click()
    expect(code).to_have_text("A-001")
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-001")
    assert len(loads) == 1
    reprint = page.locator("#kiosk-reprint")
    expect(reprint).to_have_text("Cetak ulang")
    expect(reprint).to_be_enabled()
    reprint.click()
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-001")
    assert len(loads) == 2
    assert loads[0] == loads[1]  # the same ticket, printed again
    expect(page.locator("iframe")).to_have_count(1)
    expect(print_failed).to_be_hidden()
    page.click("#kiosk-confirm-close")
    page.unroute("**/t/*/print?*")

    # The print page does not come (the not-found page instead): the number stays on screen,
    # longer than usual, with a plain request to note it down.
    def not_found(route: Any) -> None:
        route.fulfill(status=404, content_type="text/html", body="<h1>Halaman tidak ditemukan</h1>")

    page.route("**/t/*/print?*", not_found)
    tile(page, city, "A").click()
    expect(code).to_have_text("A-002")
    expect(print_failed).to_have_text("Tiket gagal dicetak — catat nomor Anda: A-002")
    expect(page.locator("#kiosk-ticket-note")).to_be_hidden()
    page.clock.fast_forward("00:20")  # past the usual 10 s
    expect(confirm).to_be_visible()
    expect(code).to_have_text("A-002")
    screenshot(page, "kiosk-print-failed")
    page.unroute("**/t/*/print?*")

    # Printing again works: the message goes.
    reprint.click()
    expect(print_failed).to_be_hidden()
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-002")
    page.click("#kiosk-confirm-close")

    # The print page never answers: after 8 s the number comes back on screen (the patient
    # had already closed it) with the same request.
    stuck: list[Any] = []
    page.route("**/t/*/print?*", lambda route: stuck.append(route))
    tile(page, city, "A").click()
    expect(code).to_have_text("A-003")
    page.click("#kiosk-confirm-close")
    expect(confirm).to_be_hidden()
    page.wait_for_timeout(300)
    assert len(stuck) == 1
    page.clock.fast_forward("00:09")
    expect(confirm).to_be_visible()
    expect(print_failed).to_have_text("Tiket gagal dicetak — catat nomor Anda: A-003")
    expect(reprint).to_be_enabled()
    # It comes late after all, and prints: the message goes.
    stuck[0].continue_()
    expect(page.frame_locator("#print-frame").locator("#slip-code")).to_have_text("A-003")
    expect(print_failed).to_be_hidden()


OVERFLOW_SCRIPT = """
(paperPx) => {
  const root = document.documentElement;
  const out = [];
  if (root.scrollWidth > root.clientWidth) out.push('document ' + root.scrollWidth);
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > paperPx + 0.5 || r.left < -0.5)) {
      out.push(el.tagName + '.' + el.className + ' ' + r.left + '..' + r.right);
    }
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      out.push('scroll ' + el.className);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    range.selectNodeContents(walker.currentNode);
    const r = range.getBoundingClientRect();
    if (r.width && r.right > paperPx + 0.5) {
      out.push('text "' + walker.currentNode.textContent.trim() + '" ' + r.right);
    }
  }
  return out;
}
"""


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size in points of each page of a PDF that Chromium made."""
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(boxes) == len(pages)
    return [(float(w), float(h)) for w, h in boxes]


def test_print_view_fits_58_and_80_mm_paper(browser: Any, city: City) -> None:
    cid = city.clinic["id"]
    # The widest ticket we can make: a two-letter prefix, a long service name, a priority,
    # a long clinic name and address.
    city.api(
        "PATCH",
        f"/clinics/{cid}",
        json={"address": "Jl. Jenderal Sudirman No. 1, Klandasan Ilir, Balikpapan Kota"},
    )
    kb = city.api(
        "POST",
        f"/clinics/{cid}/services",
        json={"name": "KIA/KB (Kesehatan Ibu dan Anak, Keluarga Berencana)", "prefix": "KB"},
    )
    take_via_api(city, "A")
    response = httpx.post(
        f"{city.url}/api/v1/clinics/{cid}/tickets",
        json={"service_id": kb["id"], "priority": "pregnant"},
        headers={"Authorization": f"Bearer {city.kiosk_key}"},
    )
    ticket = response.json()
    path = f"/t/{ticket['id']}/print?token={ticket['token']}"
    phone_url = f"{city.url}/t/{ticket['id']}?token={ticket['token']}"

    # The QR code is the phone page's address (the very SVG segno draws for it).
    html = httpx.get(city.url + path).text
    assert qr_svg(phone_url) in html
    # Only the token's holder gets the printout.
    wrong = httpx.get(f"{city.url}/t/{ticket['id']}/print?token=wrong-token")
    assert wrong.status_code == 404
    assert "KB-001" not in wrong.text

    for paper in (58, 80):
        width = int(paper * MM) + 1
        context = browser.new_context(viewport={"width": width, "height": 620})
        enforce_csp(context)  # the page sizes itself with no inline script or style
        page = context.new_page()
        page.goto(f"{city.url}{path}&paper={paper}")
        expect(page.locator("#slip-code")).to_have_text("KB-001")
        expect(page.locator("#slip-qr svg")).to_have_count(1)
        expect(page.locator("#slip-qr")).to_have_attribute("data-url", phone_url)
        expect(page.locator(".slip-priority")).to_have_text("Prioritas: Ibu hamil")
        expect(page.locator("#slip-ahead")).to_have_text("tidak ada")
        expect(page.locator(".slip-clinic-name")).to_have_text("Puskesmas Klandasan Ilir")
        assert page.locator(".topbar, .lang-switch, #offline-marker").count() == 0
        if paper == 58:
            screenshot(page, "ticket-print-58")

        page.emulate_media(media="print")
        problems = page.evaluate(OVERFLOW_SCRIPT, paper * MM)
        assert problems == [], f"{paper} mm: {problems}"
        # The longest code there can be (two-letter prefix, a four-digit number) fits too.
        page.evaluate(
            "() => { const c = document.getElementById('slip-code');"
            " c.textContent = 'KB-1234'; c.className = 'slip-code slip-code-7'; }"
        )
        problems = page.evaluate(OVERFLOW_SCRIPT, paper * MM)
        assert problems == [], f"{paper} mm, KB-1234: {problems}"
        # The QR code keeps its size (a scanner needs its modules whole).
        qr_width = page.locator("#slip-qr svg").bounding_box()["width"]
        assert 25 * MM < qr_width <= 48 * MM

        # It prints: one page of paper width, whether the size comes from the printer's paper
        # or from the page's own @page rule (the slip's height, for a roll printer).
        assert len(pdf_pages(page.pdf(width=f"{paper}mm"))) == 1
        pages = pdf_pages(page.pdf(prefer_css_page_size=True))
        assert len(pages) == 1
        points = paper / 25.4 * 72
        assert abs(pages[0][0] - points) < 2, pages
        assert 60 / 25.4 * 72 < pages[0][1] < 200 / 25.4 * 72, pages
        assert csp_violations(page) == []
        page.context.close()
