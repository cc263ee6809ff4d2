"""The admin page (/admin) in a real browser against a real server: an admin sets up a clinic
(services, counters, devices, accounts); a clinic_admin sees only their own; staff are refused."""

from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser import ADMIN, STAFF_PASSWORD, City, screenshot


def new_page(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1280, "height": 800}).new_page()


def log_in(page: Any, city: City, username: str, password: str) -> None:
    page.goto(f"{city.url}/admin")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def whoami(city: City, credentials: str) -> Any:
    response = httpx.get(
        f"{city.url}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {credentials}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def create_service(page: Any, name: str, prefix: str, quota: str = "", target: str = "") -> None:
    page.fill("#service-name", name)
    page.fill("#service-prefix", prefix)
    page.fill("#service-quota", quota)
    page.fill("#service-target", target)
    page.click("#service-create")


def test_an_admin_sets_up_a_clinic_from_scratch(browser: Any, city: City) -> None:
    page = new_page(browser)
    log_in(page, city, ADMIN[0], "wrong-password")
    expect(page.locator("#login-error")).to_have_text("Nama pengguna atau kata sandi salah.")
    page.fill("#login-password", ADMIN[1])
    page.click("#login-submit")
    expect(page.locator("#clinic-list tbody tr")).to_have_count(1)
    expect(page.locator("#clinic-list")).to_contain_text("Puskesmas Klandasan Ilir")

    # A clinic in WIT, without phone tickets.
    page.click("#btn-new-clinic")
    page.fill("#clinic-code", "sepinggan")
    page.fill("#clinic-name", "Puskesmas Sepinggan")
    page.select_option("#clinic-timezone", "Asia/Jayapura")
    page.fill("#clinic-address", "Jl. Marsma R. Iswahyudi, Balikpapan")
    page.fill("#clinic-hours", "Senin–Sabtu 07.30–14.00")
    page.uncheck("#clinic-remote")
    page.click("#clinic-save")
    expect(page.locator("#clinic-title")).to_have_text("Puskesmas Sepinggan")
    clinic = next(c for c in city.api("GET", "/clinics") if c["code"] == "SEPINGGAN")
    assert clinic["timezone"] == "Asia/Jayapura"
    assert clinic["allow_remote_tickets"] is False
    assert clinic["opening_hours"] == "Senin–Sabtu 07.30–14.00"
    cid = clinic["id"]

    # Services: created from the form (the prefix is taken in upper case).
    expect(page.locator("#panel-services")).to_be_visible()
    create_service(page, "Pendaftaran", "a")
    expect(page.locator("#services-table tr[data-prefix='A']")).to_be_visible()
    create_service(page, "Poli Umum", "B", quota="30", target="45")
    expect(page.locator("#services-table tr[data-prefix='B']")).to_be_visible()
    create_service(page, "Poli Gigi", "C", quota="20", target="60")
    expect(page.locator("#services-table tr[data-prefix='C']")).to_be_visible()
    services = {s["prefix"]: s for s in city.api("GET", f"/clinics/{cid}/services")}
    assert set(services) == {"A", "B", "C"}
    assert services["B"]["daily_quota"] == 30
    assert services["B"]["target_wait_minutes"] == 45

    # Inline edit: a quota for A; B closed and transfer-only, its quota removed.
    row_a = page.locator("#services-table tr[data-prefix='A']")
    row_a.locator("[name='daily_quota']").fill("50")
    row_a.locator("[data-action='save']").click()
    expect(page.locator(f"[data-feedback-for='{services['A']['id']}']")).to_have_text("Tersimpan.")
    row_b = page.locator("#services-table tr[data-prefix='B']")
    row_b.locator("[name='daily_quota']").fill("")
    row_b.locator("[name='is_open']").uncheck()
    row_b.locator("[name='entry']").select_option("false")
    row_b.locator("[data-action='save']").click()
    expect(page.locator(f"[data-feedback-for='{services['B']['id']}']")).to_have_text("Tersimpan.")
    services = {s["prefix"]: s for s in city.api("GET", f"/clinics/{cid}/services")}
    assert services["A"]["daily_quota"] == 50
    assert services["B"]["daily_quota"] is None
    assert services["B"]["is_open"] is False
    assert services["B"]["entry"] is False
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "admin")

    # A duplicate prefix is refused plainly, in the form and in a row; nothing changes.
    create_service(page, "Poli Anak", "A")
    expect(page.locator("#service-form-error")).to_have_text(
        "Awalan ini sudah dipakai layanan lain di puskesmas ini."
    )
    row_b = page.locator("#services-table tr[data-prefix='B']")
    row_b.locator("[name='prefix']").fill("A")
    row_b.locator("[data-action='save']").click()
    expect(page.locator(f"[data-feedback-for='{services['B']['id']}']")).to_contain_text(
        "Awalan ini sudah dipakai"
    )
    row_b.locator("[name='prefix']").fill("B")
    # Bad input is explained field by field, next to the form.
    create_service(page, "", "1x")
    errors = page.locator("#service-form-error li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("Nama:")
    expect(errors.nth(1)).to_contain_text("Awalan: bentuknya tidak sesuai")
    expect(page.locator("#service-name")).to_have_class("invalid")
    assert len(city.api("GET", f"/clinics/{cid}/services")) == 3

    # Counters: one serving both services; one without services is explained.
    page.click("#tab-counters")
    page.fill("#counter-name", "Loket 1")
    page.check(f"#counter-services [data-service-id='{services['A']['id']}']")
    page.check(f"#counter-services [data-service-id='{services['B']['id']}']")
    page.click("#counter-create")
    expect(page.locator("#counters-table tbody tr[data-counter-id]")).to_have_count(1)
    counters = city.api("GET", f"/clinics/{cid}/counters")
    assert counters[0]["name"] == "Loket 1"
    assert counters[0]["service_ids"] == sorted([services["A"]["id"], services["B"]["id"]])
    page.fill("#counter-name", "Ruang Periksa 1")
    page.click("#counter-create")
    expect(page.locator("#counter-form-error")).to_contain_text(
        "Layanan yang dilayani: terlalu sedikit"
    )
    # Edit: Loket 1 now serves A only.
    row = page.locator(f"#counters-table tr[data-counter-id='{counters[0]['id']}']")
    row.locator(f"[data-service-id='{services['B']['id']}']").uncheck()
    row.locator("[data-action='save']").click()
    expect(page.locator("#counters-table .row-feedback")).to_have_text("Tersimpan.")
    assert city.api("GET", f"/clinics/{cid}/counters")[0]["service_ids"] == [services["A"]["id"]]

    # Devices: the key is shown once, works, and is gone after.
    page.click("#tab-devices")
    page.fill("#device-name", "Kios pintu masuk")
    page.select_option("#device-kind", "kiosk")
    page.click("#device-create")
    expect(page.locator("#device-key-box")).to_be_visible()
    expect(page.locator("#device-key-box")).to_contain_text("tidak akan ditampilkan lagi")
    expect(page.locator("#device-url")).to_have_text(f"{city.url}/kiosk/{cid}")
    key = page.locator("#device-key").inner_text().strip()
    assert len(key) > 20
    screenshot(page, "admin-device-key")
    me = whoami(city, key)
    assert me["kind"] == "device"
    assert me["device_kind"] == "kiosk"
    assert me["clinic_id"] == cid
    expect(page.locator("#devices-table tbody tr")).to_have_count(1)
    page.click("#btn-key-done")
    expect(page.locator("#device-key-box")).to_be_hidden()
    page.reload()
    page.click("#tab-devices")
    expect(page.locator("#devices-table tbody tr")).to_have_count(1)
    assert key not in page.content()

    # Accounts: a staff account who can then log in; a short password is explained.
    page.click("#tab-users")
    page.fill("#user-username", "petugas.sepinggan")
    page.fill("#user-password", "pendek")
    page.click("#user-create")
    expect(page.locator("#user-form-error")).to_contain_text(
        "Kata sandi: terlalu pendek atau kosong (minimal 8 karakter)"
    )
    page.fill("#user-password", "sandi-sepinggan-1")
    page.select_option("#user-role", "staff")
    page.click("#user-create")
    expect(page.locator("#user-form-done")).to_contain_text("petugas.sepinggan")
    expect(page.locator("#users-table tr[data-username='petugas.sepinggan']")).to_be_visible()
    response = httpx.post(
        f"{city.url}/api/v1/auth/token",
        data={"username": "petugas.sepinggan", "password": "sandi-sepinggan-1"},
        timeout=10,
    )
    assert response.status_code == 200
    me = whoami(city, response.json()["access_token"])
    assert (me["role"], me["clinic_id"]) == ("staff", cid)
    page.fill("#user-username", "petugas.sepinggan")
    page.fill("#user-password", "sandi-sepinggan-1")
    page.click("#user-create")
    expect(page.locator("#user-form-error")).to_have_text("Nama pengguna ini sudah dipakai.")

    # The clinic's details can be edited; the list leads back to every clinic.
    page.click("#btn-edit-clinic")
    expect(page.locator("#clinic-code")).to_have_value("SEPINGGAN")
    page.fill("#clinic-name", "Puskesmas Sepinggan Baru")
    page.click("#clinic-save")
    expect(page.locator("#clinic-title")).to_have_text("Puskesmas Sepinggan Baru")
    assert city.api("GET", f"/clinics/{cid}")["name"] == "Puskesmas Sepinggan Baru"
    page.click("#btn-back-clinics")
    expect(page.locator("#clinic-list tbody tr")).to_have_count(2)


def test_a_clinic_admin_sees_only_their_clinic_and_staff_are_turned_away(
    browser: Any, city: City
) -> None:
    cid = city.clinic["id"]
    city.api(
        "POST",
        "/users",
        json={
            "username": "admin.klandasan",
            "password": "sandi-admin-klandasan",
            "role": "clinic_admin",
            "clinic_id": cid,
        },
    )
    page = new_page(browser)
    log_in(page, city, "admin.klandasan", "sandi-admin-klandasan")
    expect(page.locator("#clinic-title")).to_have_text("Puskesmas Klandasan Ilir")
    expect(page.locator("#clinics-section")).to_be_hidden()
    expect(page.locator("#btn-new-clinic")).to_be_hidden()
    expect(page.locator("#btn-back-clinics")).to_be_hidden()
    expect(page.locator("#services-table tbody tr[data-service-id]")).to_have_count(4)

    # Their own clinic's details: editable.
    page.click("#btn-edit-clinic")
    page.fill("#clinic-hours", "Senin–Jumat 07.30–15.00")
    page.click("#clinic-save")
    expect(page.locator("#clinic-form-section")).to_be_hidden()
    assert city.api("GET", f"/clinics/{cid}")["opening_hours"] == "Senin–Jumat 07.30–15.00"

    # Accounts of their clinic only, and no admin role to give.
    page.click("#tab-users")
    expect(page.locator("#users-table tbody tr")).to_have_count(2)
    expect(page.locator("#users-table tr[data-username='loket1']")).to_be_visible()
    expect(page.locator("#users-table tr[data-username='admin']")).to_have_count(0)
    assert page.locator("#user-role option:not([disabled])").all_inner_texts() == [
        "Petugas",
        "Admin puskesmas",
    ]

    # A reload keeps them in; a call refused with 401 (the login expired) asks for it again.
    page.reload()
    expect(page.locator("#clinic-title")).to_have_text("Puskesmas Klandasan Ilir")
    page.route(
        "**/api/v1/clinics/*/devices",
        lambda route: route.fulfill(status=401, json={"detail": "Not authenticated"}),
    )
    page.click("#tab-devices")
    expect(page.locator("#login-error")).to_have_text(
        "Sesi Anda sudah berakhir. Silakan masuk lagi."
    )
    expect(page.locator("#clinic-detail")).to_be_hidden()
    page.unroute("**/api/v1/clinics/*/devices")
    page.fill("#login-username", "admin.klandasan")
    page.fill("#login-password", "sandi-admin-klandasan")
    page.click("#login-submit")
    expect(page.locator("#clinic-title")).to_have_text("Puskesmas Klandasan Ilir")
    page.click("#btn-logout")
    expect(page.locator("#login-username")).to_be_visible()
    page.reload()
    expect(page.locator("#login-username")).to_be_visible()

    staff = new_page(browser)
    log_in(staff, city, city.staff_username, STAFF_PASSWORD)
    expect(staff.locator("#not-allowed")).to_be_visible()
    expect(staff.locator("#not-allowed")).to_contain_text("tidak diizinkan")
    expect(staff.locator("#clinic-detail")).to_be_hidden()
    expect(staff.locator("#clinics-section")).to_be_hidden()
