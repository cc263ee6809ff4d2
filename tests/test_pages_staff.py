"""The staff console (/staff) in a real browser against a real server: login, counter choice,
Next / Recall / Start / Done / No-show / Requeue / Transfer, and the live queue."""

from typing import Any

from playwright.sync_api import expect

from tests.browser import ADMIN, STAFF_PASSWORD, City, screenshot

WITHIN_A_SECOND = 1000  # ms


def take(city: City, prefix: str = "A", priority: str = "none") -> Any:
    """A ticket taken at the kiosk (through the API with the kiosk's key)."""
    return city.api(
        "POST",
        f"/clinics/{city.clinic['id']}/tickets",
        token=city.kiosk_key,
        json={"service_id": city.services[prefix]["id"], "priority": priority},
    )


def queue(city: City) -> Any:
    return city.api("GET", f"/clinics/{city.clinic['id']}/queue")


def held_by(city: City, counter: str) -> Any:
    counter_id = city.counters[counter]["id"]
    return next(c["ticket"] for c in queue(city)["counters"] if c["counter_id"] == counter_id)


def waiting_codes(city: City, prefix: str) -> list[str]:
    service_id = city.services[prefix]["id"]
    service = next(s for s in queue(city)["services"] if s["service_id"] == service_id)
    return [ticket["code"] for ticket in service["waiting"]]


def new_page(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1280, "height": 800}).new_page()


def log_in(page: Any, city: City, username: str = "", password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{city.url}/staff")
    page.fill("#login-username", username or city.staff_username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def open_console(page: Any, city: City, counter: str) -> None:
    log_in(page, city)
    page.click(f"[data-counter-id='{city.counters[counter]['id']}']")
    expect(page.locator("#console")).to_be_visible()


def queue_codes(page: Any) -> Any:
    return page.locator("#queue [data-ticket-code] .queue-code")


def hold_feed(page: Any) -> None:
    """Drop the console's live feed and keep it from reconnecting (until `resume_feed`)."""
    page.evaluate(
        "() => { const feed = AntreanStaff.feed; feed.drop(); clearTimeout(feed.timer); }"
    )


def resume_feed(page: Any) -> None:
    """Reconnect the held feed the way it reconnects by itself: with ?since= for a replay."""
    page.evaluate("() => AntreanStaff.feed.connect(true)")


def expect_enabled(page: Any, enabled: set[str]) -> None:
    for name in ("next", "recall", "start", "done", "no-show", "transfer", "requeue"):
        button = page.locator(f"#btn-{name}")
        if name in enabled:
            expect(button).to_be_enabled()
        else:
            expect(button).to_be_disabled()


def test_login_then_call_recall_start_done_in_call_order_and_survive_a_reload(
    browser: Any, city: City
) -> None:
    page = new_page(browser)
    page.goto(f"{city.url}/staff")
    expect(page.locator("#login-username")).to_be_visible()
    screenshot(page, "staff-login")

    page.fill("#login-username", city.staff_username)
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Nama pengguna atau kata sandi salah.")

    # Too many attempts, or a disabled account: said by the answer's code, with the wait the
    # server asks for.
    def refuse(status: int, code: str, headers: dict[str, str]) -> Any:
        def handler(route: Any) -> None:
            route.fulfill(status=status, headers=headers, json={"detail": "No", "code": code})

        return handler

    page.route("**/api/v1/auth/token", refuse(429, "rate_limited", {"Retry-After": "20"}))
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text(
        "Terlalu banyak percobaan masuk. Coba lagi dalam 20 detik."
    )
    page.unroute("**/api/v1/auth/token")
    page.route("**/api/v1/auth/token", refuse(401, "account_disabled", {}))
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("Akun ini dinonaktifkan")
    page.unroute("**/api/v1/auth/token")

    take(city)
    take(city)
    take(city, priority="elderly")
    page.fill("#login-password", STAFF_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("[data-counter-id]")).to_have_count(3)
    page.click(f"[data-counter-id='{city.counters['Loket 1']['id']}']")

    # The elderly patient is called first (priority rule), and the queue shows it marked.
    expect(queue_codes(page)).to_have_text(["A-003", "A-001", "A-002"])
    first = page.locator("#queue [data-ticket-code='A-003']")
    expect(first).to_have_class("queue-item is-priority")
    expect(first).to_contain_text("Lansia")
    expect(page.locator("#queue [data-ticket-code='A-001']")).not_to_contain_text("Lansia")
    expect(page.locator(".queue-group")).to_contain_text("3 menunggu")
    expect(page.locator("#current-code")).to_have_text("")
    expect_enabled(page, {"next"})

    page.click("#btn-next")
    expect(page.locator("#current-code")).to_have_text("A-003")
    assert held_by(city, "Loket 1")["code"] == "A-003"
    expect(queue_codes(page)).to_have_text(["A-001", "A-002"])
    expect(page.locator("#current-status")).to_have_text("Dipanggil")
    expect(page.locator("#current-priority")).to_have_text("Lansia")
    expect(page.locator("#current-service")).to_have_text("Pendaftaran")
    expect(page.locator("#current-recalls")).to_have_text("0")
    expect_enabled(page, {"next", "recall", "start", "done", "no-show"})
    expect(page.locator("#transfer-service")).to_be_enabled()
    take(city, priority="pregnant")  # arrives while A-003 is at the counter: first in line
    expect(queue_codes(page)).to_have_text(["A-004", "A-001", "A-002"], timeout=WITHIN_A_SECOND)
    screenshot(page, "staff")

    page.click("#btn-recall")
    expect(page.locator("#current-recalls")).to_have_text("1")
    ticket_id = held_by(city, "Loket 1")["id"]
    staff = city.staff_token()
    assert city.api("GET", f"/tickets/{ticket_id}", token=staff)["recall_count"] == 1

    page.click("#btn-start")
    expect(page.locator("#current-status")).to_have_text("Sedang dilayani")
    expect_enabled(page, {"next", "done"})
    expect(page.locator("#transfer-service")).to_be_enabled()
    assert held_by(city, "Loket 1")["status"] == "serving"

    page.click("#btn-done")
    expect(page.locator("#current-code")).to_have_text("")
    expect(page.locator("#staff-message")).to_contain_text("A-003 selesai")
    expect_enabled(page, {"next"})
    assert city.api("GET", f"/tickets/{ticket_id}", token=staff)["status"] == "done"
    assert held_by(city, "Loket 1") is None

    # A reload keeps the login and the counter: straight back to the console.
    page.click("#btn-next")
    expect(page.locator("#current-code")).to_have_text("A-004")
    page.reload()
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#login-section")).to_be_hidden()
    expect(page.locator("#console-counter")).to_have_text("Loket 1")
    expect(page.locator("#current-code")).to_have_text("A-004")
    expect(page.locator("#current-priority")).to_have_text("Ibu hamil")
    expect(queue_codes(page)).to_have_text(["A-001", "A-002"])

    page.click("#btn-logout")
    expect(page.locator("#login-username")).to_be_visible()
    page.reload()
    expect(page.locator("#login-username")).to_be_visible()


def test_no_show_requeue_transfer_and_nobody_waiting(browser: Any, city: City) -> None:
    tickets = {ticket["code"]: ticket for ticket in (take(city), take(city))}
    page = new_page(browser)
    open_console(page, city, "Loket 1")
    expect(queue_codes(page)).to_have_text(["A-001", "A-002"])

    page.click("#btn-next")
    expect(page.locator("#current-code")).to_have_text("A-001")
    page.click("#btn-no-show")
    expect(page.locator("#current-code")).to_have_text("")
    expect(page.locator("#last-no-show")).to_contain_text("A-001")
    expect_enabled(page, {"next", "requeue"})
    expect(queue_codes(page)).to_have_text(["A-002"])

    page.click("#btn-requeue")
    expect(page.locator("#last-no-show")).to_be_hidden()
    expect(page.locator("#queue [data-ticket-code='A-001']")).to_be_visible()
    assert sorted(waiting_codes(city, "A")) == ["A-001", "A-002"]

    # Transfer: the choice lists the clinic's other services, transfer-only Apotek included.
    page.click("#btn-next")
    expect(page.locator("#current-code")).not_to_have_text("")
    code = page.locator("#current-code").inner_text()
    options = page.locator("#transfer-service option").all_inner_texts()
    assert any("Apotek" in text for text in options)
    assert any("Poli Umum" in text for text in options)
    assert not any("Pendaftaran" in text for text in options)
    expect(page.locator("#btn-transfer")).to_be_disabled()  # until a service is chosen
    page.select_option("#transfer-service", str(city.services["B"]["id"]))
    page.click("#btn-transfer")
    expect(page.locator("#current-code")).to_have_text("")
    expect(page.locator("#staff-message")).to_contain_text(f"{code} dipindahkan ke Poli Umum")
    assert waiting_codes(city, "B") == [code]  # Ruang Periksa 1's queue now has it

    # The last one, then nobody: the counter keeps its ticket and says so.
    page.click("#btn-next")
    last = "A-002" if code == "A-001" else "A-001"
    expect(page.locator("#current-code")).to_have_text(last)
    expect(page.locator("#queue [data-ticket-code]")).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    page.click("#btn-next")
    expect(page.locator("#staff-message")).to_have_text("Tidak ada pasien yang menunggu.")
    expect(page.locator("#current-code")).to_have_text(last)
    assert held_by(city, "Loket 1")["code"] == last

    # An action another PC made illegal (this console's feed was down and missed it) is refused
    # plainly, and nothing changes.
    page.click("#btn-no-show")
    expect(page.locator("#last-no-show")).to_contain_text(last)
    hold_feed(page)
    no_show = tickets[last]
    city.api("POST", f"/tickets/{no_show['id']}/requeue", token=city.staff_token())
    page.click("#btn-requeue")
    expect(page.locator("#staff-message")).to_contain_text("Tidak bisa dilakukan")
    expect(page.locator("#last-no-show")).to_be_hidden()
    expect(queue_codes(page)).to_have_text([last])


def test_live_queue_two_consoles_an_expired_session_and_an_admin(browser: Any, city: City) -> None:
    one = new_page(browser)
    two = new_page(browser)
    open_console(one, city, "Loket 1")
    open_console(two, city, "Loket 2")
    expect(one.locator("#queue-empty")).to_be_visible()

    take(city)
    expect(one.locator("#queue [data-ticket-code='A-001']")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(two.locator("#queue [data-ticket-code='A-001']")).to_be_visible(timeout=WITHIN_A_SECOND)
    take(city, priority="pregnant")
    expect(queue_codes(one)).to_have_text(["A-002", "A-001"], timeout=WITHIN_A_SECOND)

    # A double click is one call (the button is off while its request is in flight); the other
    # console, by its N key, gets the other ticket.
    calls: list[str] = []
    one.on(
        "request", lambda request: calls.append(request.url) if "call-next" in request.url else None
    )
    one.dblclick("#btn-next")
    two.keyboard.press("n")
    expect(one.locator("#current-code")).not_to_have_text("")
    expect(two.locator("#current-code")).not_to_have_text("")
    codes = {one.locator("#current-code").inner_text(), two.locator("#current-code").inner_text()}
    assert codes == {"A-001", "A-002"}
    # Each console sees the queue drained by the other.
    expect(one.locator("#queue [data-ticket-code]")).to_have_count(0, timeout=WITHIN_A_SECOND)
    expect(two.locator("#queue [data-ticket-code]")).to_have_count(0, timeout=WITHIN_A_SECOND)
    assert len(calls) == 1

    # A call the server refuses with 401 (the login expired) returns to the login form.
    one.route(
        "**/api/v1/counters/*/call-next",
        lambda route: route.fulfill(status=401, json={"detail": "Not authenticated"}),
    )
    one.click("#btn-next")
    expect(one.locator("#login-error")).to_have_text(
        "Sesi Anda sudah berakhir. Silakan masuk lagi."
    )
    expect(one.locator("#console")).to_be_hidden()

    # A stored token that no longer works: the page opens on the login form.
    two.evaluate(
        """() => {
            const s = JSON.parse(localStorage.getItem('antrean.session'));
            s.token = 'not-a-valid-token';
            localStorage.setItem('antrean.session', JSON.stringify(s));
        }"""
    )
    two.reload()
    expect(two.locator("#login-username")).to_be_visible()
    expect(two.locator("#console")).to_be_hidden()

    # An admin belongs to no clinic: the console asks for one first.
    take(city, "B")
    other = city.api(
        "POST",
        "/clinics",
        json={
            "code": "SUNGAI-PINANG",
            "name": "Puskesmas Sungai Pinang",
            "timezone": "Asia/Makassar",
        },
    )
    other_service = city.api(
        "POST", f"/clinics/{other['id']}/services", json={"name": "Pendaftaran", "prefix": "A"}
    )
    other_counter = city.api(
        "POST",
        f"/clinics/{other['id']}/counters",
        json={"name": "Loket Utama", "service_ids": [other_service["id"]]},
    )
    page = new_page(browser)
    log_in(page, city, ADMIN[0], ADMIN[1])
    page.click(f"[data-clinic-id='{city.clinic['id']}']")
    page.click(f"[data-counter-id='{city.counters['Ruang Periksa 1']['id']}']")
    expect(queue_codes(page)).to_have_text(["B-001"])
    expect(page.locator(".queue-group")).to_have_count(2)  # Poli Umum and Apotek

    # The clinic's feed is cut (and kept from coming back): the console says it is offline...
    page.evaluate(
        """() => new Promise((resolve) => {
            const feed = AntreanStaff.feed;
            window.oldFeed = feed;
            feed.socket.addEventListener("close", () => { clearTimeout(feed.timer); resolve(); });
            feed.socket.close();
        })"""
    )
    expect(page.locator("#offline-marker")).to_be_visible()
    page.click("#btn-change-counter")
    expect(page.locator("#counter-section")).to_be_visible()
    page.click("#btn-change-clinic")
    expect(page.locator("[data-clinic-id]")).to_have_count(2)
    # ...and switching clinic ends that feed for good, marker and all.
    expect(page.locator("#offline-marker")).to_be_hidden()
    assert page.evaluate("() => window.oldFeed.stopped && AntreanStaff.feed === null")
    page.click(f"[data-clinic-id='{other['id']}']")
    page.click(f"[data-counter-id='{other_counter['id']}']")
    expect(page.locator("#console-counter")).to_have_text("Loket Utama")
    expect(page.locator("#console-services")).to_have_text("Pendaftaran")
    expect(page.locator("#queue-empty")).to_be_visible()
    assert page.evaluate("() => AntreanStaff.feed.path") == f"/ws/clinics/{other['id']}"
    expect(page.locator("#offline-marker")).to_be_hidden()


def test_setup_changes_missed_while_the_feed_was_down_show_once_it_reconnects(
    browser: Any, city: City
) -> None:
    take(city)
    page = new_page(browser)
    open_console(page, city, "Loket 1")
    page.click("#btn-next")
    expect(page.locator("#current-code")).to_have_text("A-001")
    transfer = page.locator("#transfer-service option")
    expect(transfer.filter(has_text="Poli Umum (B)")).to_have_count(1)

    # A live setup change (the feed is up) shows at once.
    city.api("PATCH", f"/services/{city.services['A']['id']}", json={"name": "Pendaftaran Umum"})
    expect(page.locator("#console-services")).to_have_text(
        "Pendaftaran Umum", timeout=WITHIN_A_SECOND
    )

    # Setup changes carry no seq, so the ?since= replay after a dropped connection does not
    # bring them: the console reads the clinic's services and counters again when it reconnects.
    hold_feed(page)
    cid = city.clinic["id"]
    city.api("PATCH", f"/services/{city.services['B']['id']}", json={"name": "Poli Umum Dewasa"})
    kia = city.api("POST", f"/clinics/{cid}/services", json={"name": "Poli KIA", "prefix": "E"})
    city.api(
        "PATCH",
        f"/counters/{city.counters['Loket 1']['id']}",
        json={"service_ids": [city.services["A"]["id"], kia["id"]]},
    )
    take(city)  # a ticket event, replayed by ?since=
    page.wait_for_timeout(300)
    expect(transfer.filter(has_text="Poli KIA")).to_have_count(0)  # the feed really was down
    resume_feed(page)
    expect(page.locator("#queue [data-ticket-code='A-002']")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(transfer.filter(has_text="Poli Umum Dewasa (B)")).to_have_count(
        1, timeout=WITHIN_A_SECOND
    )
    expect(transfer.filter(has_text="Poli KIA (E)")).to_have_count(1)
    expect(transfer.filter(has_text="Poli Umum (B)")).to_have_count(0)
    expect(page.locator("#console-services")).to_have_text("Pendaftaran Umum, Poli KIA")
    expect(page.locator(".queue-group")).to_have_count(2)  # Pendaftaran Umum and Poli KIA
    # The new service can be chosen as a transfer target and works.
    page.select_option("#transfer-service", str(kia["id"]))
    page.click("#btn-transfer")
    expect(page.locator("#staff-message")).to_contain_text("A-001 dipindahkan ke Poli KIA")


def test_a_stale_last_no_show_is_not_offered_for_requeue(browser: Any, city: City) -> None:
    for _ in range(5):
        take(city)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    open_console(page, city, "Loket 1")
    panel = page.locator("#last-no-show")
    staff = city.staff_token()

    def mark_no_show() -> Any:
        page.click("#btn-next")
        expect(page.locator("#current-code")).not_to_have_text("")
        expect(page.locator("#current-status")).to_have_text("Dipanggil")
        code = page.locator("#current-code").inner_text()
        ticket = held_by(city, "Loket 1")
        assert ticket["code"] == code
        page.click("#btn-no-show")
        expect(panel).to_contain_text(code)
        return ticket

    # Still a no-show of today, same user, same counter: a reload keeps it.
    first = mark_no_show()
    page.reload()
    expect(page.locator("#console")).to_be_visible()
    expect(panel).to_contain_text(first["code"])
    expect(page.locator("#btn-requeue")).to_be_enabled()

    # Another counter put it back while this console was closed: when it opens again it reads
    # the ticket and offers nothing to requeue.
    page.close()
    city.api("POST", f"/tickets/{first['id']}/requeue", token=staff)
    page = context.new_page()
    panel = page.locator("#last-no-show")
    page.goto(f"{city.url}/staff")
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#queue [data-ticket-code]")).to_have_count(5)
    expect(panel).to_be_hidden()
    page.reload()  # and it is forgotten, not just hidden
    expect(page.locator("#queue [data-ticket-code]")).to_have_count(5)
    expect(panel).to_be_hidden()

    # Another counter puts it back while this console looks: the panel goes.
    second = mark_no_show()
    city.api("POST", f"/tickets/{second['id']}/requeue", token=staff)
    expect(panel).to_be_hidden(timeout=WITHIN_A_SECOND)

    # A no-show of another day (the stored one is from yesterday) is not offered.
    mark_no_show()
    page.evaluate(
        """() => {
            const stored = JSON.parse(localStorage.getItem('antrean.staff.no_show'));
            stored.ticket.visit_date = '2000-01-01';
            localStorage.setItem('antrean.staff.no_show', JSON.stringify(stored));
        }"""
    )
    page.reload()
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#queue [data-ticket-code]")).to_have_count(4)
    expect(panel).to_be_hidden()

    # Logging out forgets it: the next login at this counter starts clean.
    mark_no_show()
    page.click("#btn-logout")
    log_in(page, city)
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#queue [data-ticket-code]")).to_have_count(3)
    expect(panel).to_be_hidden()

    # A session that ended without a logout, then another user at this counter: not theirs.
    mark_no_show()
    city.api(
        "POST",
        "/users",
        json={
            "username": "loket2",
            "password": STAFF_PASSWORD,
            "role": "staff",
            "clinic_id": city.clinic["id"],
        },
    )
    page.evaluate(
        """() => {
            const session = JSON.parse(localStorage.getItem('antrean.session'));
            session.token = 'expired';
            localStorage.setItem('antrean.session', JSON.stringify(session));
        }"""
    )
    page.reload()
    expect(page.locator("#login-username")).to_be_visible()
    log_in(page, city, "loket2")
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#console-counter")).to_have_text("Loket 1")
    expect(page.locator("#queue [data-ticket-code]")).to_have_count(2)
    expect(panel).to_be_hidden()
