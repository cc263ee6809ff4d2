"""Input rules decided beyond SPEC.md: case-insensitive usernames, real zone names, no
invisible characters."""

import pytest

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
