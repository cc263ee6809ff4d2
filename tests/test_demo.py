"""The demo city that the README's first command starts."""

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.demo import CLINICS, DEMO_STAFF_PASSWORD, DemoClinic, print_welcome, seed
from app.directory.users import bootstrap_admin
from app.migrate import upgrade_to_head
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME, login


def test_demo_city_is_usable_with_the_printed_logins_and_keys(app: FastAPI, engine: Engine) -> None:
    # As `python -m app.demo` does: the data first, then the service (which reads the whole
    # directory when it starts).
    upgrade_to_head(engine)
    bootstrap_admin(engine, ADMIN_USERNAME, ADMIN_PASSWORD)
    city = seed(engine, ADMIN_USERNAME)
    again = seed(engine, ADMIN_USERNAME)  # a second start keeps the data …
    assert [c.clinic.id for c in again] == [c.clinic.id for c in city]
    with TestClient(app) as client:
        serve_the_demo(client, city, again)


def serve_the_demo(client: TestClient, city: list[DemoClinic], again: list[DemoClinic]) -> None:
    assert len(client.get("/api/v1/clinics").json()) == len(CLINICS)
    first = again[0]  # … and only the newest keys work
    clinic_id = first.clinic.id
    services = client.get(f"/api/v1/clinics/{clinic_id}/services").json()
    entry = next(s for s in services if s["entry"])
    old_key = {"Authorization": f"Bearer {city[0].kiosk_key}"}
    kiosk = {"Authorization": f"Bearer {first.kiosk_key}"}
    body = {"service_id": entry["id"]}
    url = f"/api/v1/clinics/{clinic_id}/tickets"
    assert client.post(url, headers=old_key, json=body).status_code == 401
    ticket = client.post(url, headers=kiosk, json=body)
    assert ticket.status_code == 201
    assert ticket.json()["channel"] == "kiosk"

    staff = login(client, f"{first.clinic.code.lower()}.loket", DEMO_STAFF_PASSWORD)
    counters = client.get(f"/api/v1/clinics/{clinic_id}/counters").json()
    loket = next(c for c in counters if entry["id"] in c["service_ids"])
    called = client.post(f"/api/v1/counters/{loket['id']}/call-next", headers=staff)
    assert called.status_code == 200
    assert called.json()["id"] == ticket.json()["id"]


def test_every_page_address_the_demo_prints_opens(
    client: TestClient, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    city = seed(engine, ADMIN_USERNAME)
    print_welcome("http://testserver", city, (ADMIN_USERNAME, "printed-password"))
    printed = capsys.readouterr().out
    addresses = set(re.findall(r"http://testserver(/[^\s)]*)", printed))
    for clinic in city:
        assert f"/kiosk/{clinic.clinic.id}" in addresses
        assert f"/display/{clinic.clinic.id}" in addresses
    assert {"/staff", "/admin", "/office", "/docs"} <= addresses
    for path in addresses:
        assert client.get(path).status_code == 200, path
