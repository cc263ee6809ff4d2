"""Input rules decided beyond the product contract: case-insensitive usernames, real zone names, no
invisible characters."""

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.world import STAFF_PASSWORD, World, login


def test_usernames_are_one_account_whatever_their_case(world: World) -> None:
    duplicate = world.client.post(
        "/api/v1/users",
        headers=world.admin,
        json={
            "username": "KLANDASAN.Staff",
            "password": STAFF_PASSWORD,
            "role": "staff",
            "clinic_id": world.clinic_id,
        },
    )
    assert duplicate.status_code == 409
    assert login(world.client, "Klandasan.STAFF", STAFF_PASSWORD)


@pytest.mark.parametrize("zone", ["localtime", "Factory", "WITA", "Asia/Balikpapan"])
def test_a_clinic_timezone_must_be_an_iana_area_and_city(world: World, zone: str) -> None:
    response = world.client.patch(
        f"/api/v1/clinics/{world.clinic_id}", headers=world.admin, json={"timezone": zone}
    )
    assert response.status_code == 422
    assert world.client.get(f"/api/v1/clinics/{world.clinic_id}").json()["timezone"] == (
        "Asia/Makassar"
    )


@pytest.mark.parametrize("name", ["Poli\u0085Gigi", "Poli\u200bGigi", "Poli\u202eGigi"])
def test_names_refuse_invisible_characters(world: World, name: str) -> None:
    response = world.client.post(
        f"/api/v1/clinics/{world.clinic_id}/services",
        headers=world.admin,
        json={"name": name, "prefix": "Z"},
    )
    assert response.status_code == 422
    assert "Z" not in [
        s["prefix"] for s in world.client.get(f"/api/v1/clinics/{world.clinic_id}/services").json()
    ]


def test_the_configured_admin_logs_in_whatever_case_was_configured(
    empty_database_url: str,
) -> None:
    settings = Settings(
        database_url=empty_database_url, admin_username="Admin.Kota", admin_password="s3cret-pass"
    )
    with TestClient(create_app(settings)) as client:
        assert login(client, "admin.kota", "s3cret-pass")
        assert login(client, "ADMIN.KOTA", "s3cret-pass")


def test_clinic_codes_are_one_whatever_their_case(world: World) -> None:
    again = world.client.post(
        "/api/v1/clinics", headers=world.admin, json={"code": "klandasan", "name": "Lagi"}
    )
    assert again.status_code == 409


def test_an_idempotency_key_is_not_replayed_at_another_clinic(
    world: World, client: TestClient
) -> None:
    other = World.build(client, code="SEPINGGAN")
    key = {"Idempotency-Key": "0f8c1a5e-7a1b-4d3c-9e2f-aa11bb22cc33"}
    first = world.take_response("A", headers={**world.admin, **key})
    assert first.status_code == 201
    elsewhere = client.post(
        f"/api/v1/clinics/{other.clinic_id}/tickets",
        headers={**world.admin, **key},
        json={"service_id": other.services["A"]["id"]},
    )
    assert elsewhere.status_code == 409
    assert other.waiting_codes("A") == []


def test_recalls_are_counted_per_leg(world: World) -> None:
    ticket = world.take("A")
    world.call("Loket 1")
    assert world.act(ticket, "recall").json()["recall_count"] == 1
    moved = world.act(ticket, "transfer", service_id=world.services["B"]["id"]).json()
    assert moved["recall_count"] == 0
