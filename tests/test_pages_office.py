"""The health office dashboard (/office) in a real browser against a real server: every clinic
side by side with the figures the report API gives, a clinic's services by drilling down, SVG
charts with a bar per day and per hour that has tickets, the CSV, XLSX and ticket-log
downloads; a clinic_admin sees only their own clinic; staff are refused.

Past days are made by the service itself: the server is stopped, the same database is opened
in-process with a test clock set to the mornings of the last six days, patients take tickets
and counters serve them through the API, and the server is started again."""

import csv
import heapq
import io
import itertools
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import event

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.browser import ADMIN, STAFF_PASSWORD, City, screenshot
from tests.clock import FakeClock

WITA = ZoneInfo("Asia/Makassar")
TARGET_PCT = 80
HISTORY_DAYS = 6
OPENING = 7 * 60 + 30  # 07:30, in minutes after the clinics' midnight
SOON = 5000  # ms: a page reads three reports at once


@dataclass
class Counter:
    id: int
    serves: str  # the prefix it calls
    minutes: tuple[float, float]  # how long a patient takes there, at least and at most
    held: Any = None  # the ticket it serves now
    sends_on: bool = False  # whether that patient goes on to the poli (B) afterwards
    idle: bool = False  # nobody was waiting: it looks again when someone comes


@dataclass
class Site:
    """A clinic as the history sees it: where tickets are taken and who serves them."""

    clinic: dict[str, Any]
    kiosk_key: str
    services: dict[str, int]  # prefix -> service id
    counters: list[Counter]
    rush: int  # patients in the first 12 minutes of a morning
    later: int  # patients in the rest of it


def today() -> date:
    return datetime.now(WITA).date()


def take(city: City, site: Site, prefix: str) -> Any:
    """A ticket from the clinic's kiosk."""
    response = httpx.post(
        f"{city.url}/api/v1/clinics/{site.clinic['id']}/tickets",
        json={"service_id": site.services[prefix]},
        headers={
            "Authorization": f"Bearer {site.kiosk_key}",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def login(city: City, username: str, password: str = STAFF_PASSWORD) -> str:
    response = httpx.post(
        f"{city.url}/api/v1/auth/token",
        data={"username": username, "password": password},
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def clinic_one(city: City) -> Site:
    counters = [
        Counter(city.counters["Loket 1"]["id"], "A", (2, 6)),
        Counter(city.counters["Loket 2"]["id"], "A", (2, 6)),
        Counter(city.counters["Ruang Periksa 1"]["id"], "B", (4, 10)),
    ]
    services = {prefix: city.services[prefix]["id"] for prefix in ("A", "B")}
    return Site(city.clinic, city.kiosk_key, services, counters, rush=4, later=4)


def add_sepinggan(city: City) -> Site:
    """A second clinic, set up by the admin through the API: one registration counter only."""
    clinic = city.api(
        "POST",
        "/clinics",
        json={"code": "SEPINGGAN", "name": "Puskesmas Sepinggan", "timezone": "Asia/Makassar"},
    )
    cid = clinic["id"]
    a = city.api(
        "POST",
        f"/clinics/{cid}/services",
        json={"name": "Pendaftaran", "prefix": "A", "target_wait_minutes": 10},
    )
    b = city.api(
        "POST",
        f"/clinics/{cid}/services",
        json={"name": "Poli Gigi", "prefix": "B", "target_wait_minutes": 30},
    )
    loket = city.api(
        "POST", f"/clinics/{cid}/counters", json={"name": "Loket A", "service_ids": [a["id"]]}
    )
    room = city.api(
        "POST", f"/clinics/{cid}/counters", json={"name": "Ruang Gigi", "service_ids": [b["id"]]}
    )
    kiosk = city.api("POST", f"/clinics/{cid}/devices", json={"name": "Kios", "kind": "kiosk"})
    city.api(
        "POST",
        "/users",
        json={
            "username": "sepinggan1",
            "password": STAFF_PASSWORD,
            "role": "staff",
            "clinic_id": cid,
        },
    )
    counters = [Counter(loket["id"], "A", (5, 10)), Counter(room["id"], "B", (6, 14))]
    return Site(clinic, kiosk["key"], {"A": a["id"], "B": b["id"]}, counters, rush=6, later=2)


def add_history(city: City, sites: list[Site]) -> None:
    """Mornings of the last HISTORY_DAYS days, made through the API at the times they happen:
    a rush at opening, registration counters that send some patients on to the poli."""
    city.server.stop()
    engine = make_engine(city.server.env["ANTREAN_DATABASE_URL"])

    @event.listens_for(engine, "connect")
    def no_fsync(dbapi_connection: Any, _record: Any) -> None:
        # A test's past needs no power-cut safety: a commit without fsync is much quicker.
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    clock = FakeClock()
    app = create_app(Settings(database_url=str(engine.url)), engine=engine, clock=clock)
    rng = random.Random(2026)
    admin = {"Authorization": f"Bearer {city.admin_token}"}
    with TestClient(app) as client:

        def post(path: str, headers: dict[str, str], **body: Any) -> Any:
            response = client.post(f"/api/v1{path}", headers=headers, json=body or None)
            assert response.status_code in (200, 201, 204), response.text
            return response

        for days_ago in range(HISTORY_DAYS, 0, -1):
            midnight = datetime.combine(today() - timedelta(days=days_ago), time(0), WITA)
            events: list[tuple[float, int, Site, Counter | str]] = []
            order = itertools.count()
            for site in sites:
                minutes = [OPENING + rng.uniform(0, 12) for _ in range(site.rush)]
                minutes += [OPENING + rng.uniform(12, 210) for _ in range(site.later)]
                for minute in minutes:
                    prefix = "B" if rng.random() < 0.15 else "A"
                    heapq.heappush(events, (minute, next(order), site, prefix))
                for counter in site.counters:
                    counter.held = None
                    counter.idle = True
            while events:
                minute, _, site, who = heapq.heappop(events)
                clock.set((midnight + timedelta(minutes=minute)).astimezone(UTC))
                woken = ""
                if isinstance(who, str):  # a patient at the kiosk
                    kiosk = {
                        "Authorization": f"Bearer {site.kiosk_key}",
                        "Idempotency-Key": uuid.uuid4().hex,
                    }
                    post(
                        f"/clinics/{site.clinic['id']}/tickets",
                        kiosk,
                        service_id=site.services[who],
                    )
                    woken = who
                else:
                    counter = who
                    if counter.held is not None:
                        path = f"/tickets/{counter.held['id']}"
                        if counter.sends_on:
                            post(f"{path}/transfer", admin, service_id=site.services["B"])
                            woken = "B"
                        else:
                            post(f"{path}/complete", admin)
                        counter.held = None
                    called = post(f"/counters/{counter.id}/call-next", admin)
                    if called.status_code == 200 and rng.random() < 0.07:
                        post(f"/tickets/{called.json()['id']}/no-show", admin)
                        heapq.heappush(events, (minute + 1, next(order), site, counter))
                    elif called.status_code == 200:
                        counter.held = called.json()
                        counter.sends_on = counter.serves == "A" and rng.random() < 0.3
                        done = minute + rng.uniform(*counter.minutes)
                        heapq.heappush(events, (done, next(order), site, counter))
                    else:
                        counter.idle = True
                # Someone joined a queue: its idle counters look up and call.
                for other in site.counters:
                    if other.serves == woken and other.idle:
                        other.idle = False
                        look = minute + rng.uniform(0.2, 1.5)
                        heapq.heappush(events, (look, next(order), site, other))
    engine.dispose()
    city.server.start()


def serve_today(city: City, sites: list[Site]) -> None:
    """This morning so far, live on the real server, by the clinics' own staff."""
    one, two = sites
    staff_one = city.staff_token()
    staff_two = login(city, "sepinggan1")
    for prefix in ("A", "A", "A", "B"):
        take(city, one, prefix)
    for prefix in ("A", "A"):
        take(city, two, prefix)
    loket1 = city.counters["Loket 1"]["id"]
    first = city.api("POST", f"/counters/{loket1}/call-next", token=staff_one)
    city.api("POST", f"/tickets/{first['id']}/complete", token=staff_one)
    second = city.api("POST", f"/counters/{loket1}/call-next", token=staff_one)
    city.api("POST", f"/tickets/{second['id']}/no-show", token=staff_one)
    served = city.api("POST", f"/counters/{two.counters[0].id}/call-next", token=staff_two)
    city.api("POST", f"/tickets/{served['id']}/complete", token=staff_two)


def report(city: City, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = city.api("GET", "/reports/wait-times", token=token, params=params)[
        "rows"
    ]
    return rows


def new_page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    return context.new_page()


def log_in(page: Any, city: City, username: str, password: str) -> None:
    page.goto(f"{city.url}/office")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def shows(page: Any, level: str, first: date, last: date) -> None:
    """Waits until the page shows this view of this period, every read answered."""
    view = f"{level}:{first.isoformat()}:{last.isoformat()}"
    expect(page.locator("#dashboard")).to_have_attribute("data-view", view, timeout=SOON)


def minutes_id(value: float) -> str:
    """Minutes as the page shows them in Bahasa Indonesia: one or two decimals, a comma."""
    text = f"{value:.2f}"
    if text.endswith("0"):
        text = text[:-1]
    return text.replace(".", ",")


def assert_rows_match(page: Any, attribute: str, key: str, rows: list[dict[str, Any]]) -> None:
    """Each row the API gives is on the page with the same figures, flagged when below
    target."""
    for row in rows:
        line = page.locator(f"#report-table tbody tr[{attribute}='{row[key]}']")
        expect(line.locator("td[data-col='issued']")).to_have_text(str(row["issued"]))
        expect(line.locator("td[data-col='served']")).to_have_text(str(row["served"]))
        median = row["wait_median_min"]
        expect(line.locator("td[data-col='wait_median_min']")).to_have_text(
            "–" if median is None else minutes_id(median)
        )
        for name in ("wait_p90_min", "within_target_pct", "service_mean_min"):
            shown = line.locator(f"td[data-col='{name}']").get_attribute("data-value")
            if row[name] is None:
                assert shown == "", name
            else:
                assert float(shown or "nan") == row[name], name
        within = row["within_target_pct"]
        below = within is not None and within < TARGET_PCT
        assert ("below-target" in (line.get_attribute("class") or "")) == below, row


def bars(page: Any, chart: str) -> list[str]:
    keys: list[str] = page.locator(f"#{chart} svg rect.bar").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('data-key'))"
    )
    return keys


def test_the_office_sees_every_clinic_drills_down_and_downloads(browser: Any, city: City) -> None:
    sites = [clinic_one(city), add_sepinggan(city)]
    add_history(city, sites)
    serve_today(city, sites)
    one, two = (site.clinic["id"] for site in sites)
    day = today()

    page = new_page(browser)
    log_in(page, city, *ADMIN)
    shows(page, "city", day, day)
    expect(page.locator("#view-title")).to_have_text("Semua puskesmas")
    expect(page.locator("[data-preset='today']")).to_have_class(re.compile(r"\bactive\b"))
    rows = report(city, date_from=day, date_to=day, group_by="clinic")
    assert {row["clinic_id"]: row["issued"] for row in rows} == {one: 4, two: 2}
    expect(page.locator("#report-table tbody tr")).to_have_count(2)
    assert_rows_match(page, "data-clinic-id", "clinic_id", rows)
    no_show = page.locator(f"tr[data-clinic-id='{one}'] td[data-col='no_show_rate']")
    expect(no_show).to_have_text("25%")  # one no-show of four tickets
    expect(page.locator("#report-table tfoot td[data-col='issued']")).to_have_text("6")
    assert bars(page, "chart-day") == [day.isoformat()]

    # The last seven days: the mornings made above and this one.
    first = day - timedelta(days=6)
    page.click("[data-preset='7d']")
    shows(page, "city", first, day)
    expect(page.locator("#date-from")).to_have_value(first.isoformat())
    rows = report(city, date_from=first, date_to=day, group_by="clinic")
    assert len(rows) == 2
    assert_rows_match(page, "data-clinic-id", "clinic_id", rows)
    flagged = [row for row in rows if (row["within_target_pct"] or 100) < TARGET_PCT]
    assert flagged, "the history should leave a clinic below target, or the flag is untested"
    expect(page.locator("tr.below-target")).to_have_count(len(flagged))
    by_day = report(city, date_from=first, date_to=day, group_by="day")
    assert bars(page, "chart-day") == [row["date"] for row in by_day]
    assert len(by_day) == HISTORY_DAYS + 1
    by_hour = report(city, date_from=first, date_to=day, group_by="hour")
    assert bars(page, "chart-hour") == [str(row["hour"]) for row in by_hour]
    expect(page.locator("#chart-day svg path.line-median")).to_have_count(1)
    expect(page.locator("#chart-day svg path.line-p90")).to_have_count(1)
    screenshot(page, "office")

    # Sorting by a column, largest first, then back the other way.
    names = page.locator("#report-table tbody th[data-col='name']")
    page.click("th[data-col='issued'] button")
    by_issued = sorted(rows, key=lambda row: -row["issued"])
    expect(names).to_have_text([row["clinic_name"] for row in by_issued])
    page.click("th[data-col='issued'] button")
    expect(names).to_have_text([row["clinic_name"] for row in reversed(by_issued)])
    expect(page.locator("th[data-col='issued']")).to_have_attribute("aria-sort", "ascending")

    # Drill down: Sepinggan's services, and its charts.
    page.click(f"tr[data-clinic-id='{two}'] [data-action='open']")
    shows(page, "clinic", first, day)
    expect(page.locator("#view-title")).to_have_text("Puskesmas Sepinggan")
    expect(page.locator("#btn-back")).to_be_visible()
    services = report(city, date_from=first, date_to=day, group_by="service", clinic_id=two)
    expect(page.locator("#report-table tbody tr")).to_have_count(2)
    expect(page.locator("#report-table tbody th[data-col='name']")).to_have_text(
        ["Pendaftaran", "Poli Gigi"]
    )
    assert_rows_match(page, "data-service-id", "service_id", services)
    clinic_days = report(city, date_from=first, date_to=day, group_by="day", clinic_id=two)
    assert bars(page, "chart-day") == [row["date"] for row in clinic_days]
    clinic_hours = report(city, date_from=first, date_to=day, group_by="hour", clinic_id=two)
    assert bars(page, "chart-hour") == [str(row["hour"]) for row in clinic_hours]
    screenshot(page, "office-clinic")

    # The downloads of what is on screen: this clinic's services, and its ticket log.
    period = f"{first.isoformat()}-{day.isoformat()}"
    with page.expect_download() as got:
        page.click("#btn-csv")
    download = got.value
    assert download.suggested_filename == f"antrean-wait-times-{period}.csv"
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert table[0][:4] == ["service_id", "service_name", "issued", "served"]
    assert [int(line[2]) for line in table[1:]] == [row["issued"] for row in services]
    expect(page.locator("#export-status")).to_contain_text(download.suggested_filename)

    with page.expect_download() as got:
        page.click("#btn-xlsx")
    download = got.value
    assert download.suggested_filename == f"antrean-wait-times-{period}.xlsx"
    assert Path(download.path()).read_bytes()[:2] == b"PK"  # a zip: the XLSX container

    with page.expect_download() as got:
        page.click("#btn-log")
    download = got.value
    assert download.suggested_filename == f"antrean-ticket-log-{period}.csv"
    log = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert list(log[0])[:4] == ["ticket_id", "clinic_id", "clinic_name", "visit_date"]
    assert {line["clinic_id"] for line in log} == {str(two)}
    assert len(log) == sum(row["issued"] for row in services)  # one line a leg

    # A service: its counters and its charts; back to the clinic, back to the city.
    gigi = next(row for row in services if row["service_name"] == "Poli Gigi")
    page.click(f"tr[data-service-id='{gigi['service_id']}'] [data-action='open']")
    shows(page, "service", first, day)
    expect(page.locator("#view-title")).to_have_text("Poli Gigi")
    expect(page.locator("#crumbs")).to_contain_text("Puskesmas Sepinggan")
    service_days = report(
        city, date_from=first, date_to=day, group_by="day", service_id=gigi["service_id"]
    )
    assert bars(page, "chart-day") == [row["date"] for row in service_days]
    counters = report(
        city, date_from=first, date_to=day, group_by="counter", service_id=gigi["service_id"]
    )
    expect(page.locator("#report-table tbody tr")).to_have_count(len(counters))
    page.click("#btn-back")
    shows(page, "clinic", first, day)
    page.click("#btn-back")
    shows(page, "city", first, day)
    expect(page.locator("#btn-back")).to_be_hidden()


def test_a_clinic_admin_sees_only_their_clinic_and_staff_are_refused(
    browser: Any, city: City
) -> None:
    two = add_sepinggan(city)
    take(city, clinic_one(city), "A")
    for prefix in ("A", "A", "B"):
        take(city, two, prefix)
    city.api(
        "POST",
        "/users",
        json={
            "username": "kepala.sepinggan",
            "password": STAFF_PASSWORD,
            "role": "clinic_admin",
            "clinic_id": two.clinic["id"],
        },
    )
    day = today()

    page = new_page(browser)
    log_in(page, city, "kepala.sepinggan", STAFF_PASSWORD)
    shows(page, "clinic", day, day)
    expect(page.locator("#view-title")).to_have_text("Puskesmas Sepinggan")
    expect(page.locator("#userbar-role")).to_have_text("Admin puskesmas")
    expect(page.locator("#btn-back")).to_be_hidden()
    expect(page.locator("#report-table tbody tr[data-service-id]")).to_have_count(2)
    rows = report(
        city, token=login(city, "kepala.sepinggan"), date_from=day, date_to=day, group_by="service"
    )
    assert [row["issued"] for row in rows] == [2, 1]
    assert_rows_match(page, "data-service-id", "service_id", rows)
    assert "Klandasan" not in page.locator("main").inner_text()

    # Presets are the clinic's calendar; a period that ends before it begins is refused.
    page.click("[data-preset='last_month']")
    last_of_previous = day.replace(day=1) - timedelta(days=1)
    expect(page.locator("#date-from")).to_have_value(last_of_previous.replace(day=1).isoformat())
    expect(page.locator("#date-to")).to_have_value(last_of_previous.isoformat())
    shows(page, "clinic", last_of_previous.replace(day=1), last_of_previous)
    expect(page.locator("#chart-day .chart-empty")).to_be_visible()
    page.fill("#date-from", day.isoformat())
    page.fill("#date-to", (day - timedelta(days=1)).isoformat())
    page.click("#btn-apply")
    expect(page.locator("#period-error")).to_be_visible()

    # Staff of a clinic get a plain "not allowed".
    page.click("#btn-logout")
    page.fill("#login-username", city.staff_username)
    page.fill("#login-password", STAFF_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#not-allowed")).to_be_visible()
    expect(page.locator("#not-allowed-text")).to_have_text(
        "Akun ini tidak diizinkan membuka dasbor laporan. "
        "Hanya admin Dinas Kesehatan dan admin puskesmas yang boleh."
    )
    expect(page.locator("#dashboard")).to_be_hidden()

    # In English by the switch, the same page.
    page.goto(f"{city.url}/office?lang=en")
    expect(page.locator("#not-allowed h1")).to_have_text("Not allowed")
