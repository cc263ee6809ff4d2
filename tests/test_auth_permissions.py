"""Who may do what: logins, device keys, ticket tokens, roles, clinic isolation, phones.

Every refusal is checked twice: the status code, and that nothing changed behind it.
"""

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine
from sqlalchemy import select as sa_select

from app.config import Settings
from app.main import create_app
from app.models import metadata
from tests.clock import FakeClock
from tests.world import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    STAFF_PASSWORD,
    Headers,
    Json,
    World,
    created,
    login,
)

API = "/api/v1"
NEW_CLINIC = {"code": "MANGGAR", "name": "Puskesmas Manggar", "timezone": "Asia/Makassar"}
STAFF_ACTIONS = ("recall", "start", "complete", "no-show", "requeue")


def bearer(credential: str) -> Headers:
    return {"Authorization": f"Bearer {credential}"}


def token_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def get_json(client: TestClient, path: str, headers: Headers | None = None) -> Any:
    response = client.get(f"{API}{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def directory(world: World) -> Json:
    """Everything an admin can see of a clinic, to show a refused request changed nothing."""
    client, clinic_id = world.client, world.clinic_id
    return {
        "clinics": get_json(client, "/clinics"),
        "services": get_json(client, f"/clinics/{clinic_id}/services"),
        "counters": get_json(client, f"/clinics/{clinic_id}/counters"),
        "devices": get_json(client, f"/clinics/{clinic_id}/devices", world.admin),
        "users": get_json(client, "/users", world.admin),
    }


def user_id(world: World, username: str) -> int:
    users: list[Json] = get_json(world.client, "/users", world.admin)
    found: int = next(user["id"] for user in users if user["username"] == username)
    return found


def called_ticket(world: World, counter: str = "Loket 1") -> Json:
    """A ticket taken at the kiosk and called to a counter by the clinic's staff."""
    ticket = world.take("A")
    response = world.call(counter)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == ticket["id"]
    return ticket


def read_with_token(world: World, ticket: Json, token: str) -> Response:
    return world.client.get(f"{API}/tickets/{ticket['id']}", params={"token": token})


# --- login -------------------------------------------------------------------------------


def test_login_with_the_right_password_gives_a_working_bearer_token(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) > 20
    users = client.get(f"{API}/users", headers=bearer(body["access_token"]))
    assert users.status_code == 200
    assert [user["username"] for user in users.json()] == [ADMIN_USERNAME]


def test_wrong_password_and_unknown_user_are_the_same_401(world: World) -> None:
    client = world.client
    wrong = client.post(
        f"{API}/auth/token", data={"username": "klandasan.staff", "password": "not-the-password"}
    )
    unknown = client.post(
        f"{API}/auth/token", data={"username": "nobody.here", "password": STAFF_PASSWORD}
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "access_token" not in response.json()
    # Nothing tells an unknown username from a wrong password.
    assert wrong.json() == unknown.json()


def test_a_disabled_account_cannot_log_in_and_its_token_stops_working(world: World) -> None:
    ticket = world.take("A")
    assert world.client.get(f"{API}/auth/me", headers=world.staff).status_code == 200
    staff_id = user_id(world, "klandasan.staff")
    disabled = world.client.patch(
        f"{API}/users/{staff_id}", headers=world.clinic_admin, json={"is_active": False}
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False

    refused = world.client.post(
        f"{API}/auth/token", data={"username": "klandasan.staff", "password": STAFF_PASSWORD}
    )
    assert refused.status_code == 401
    assert "access_token" not in refused.json()
    assert world.call("Loket 1").status_code == 401
    assert world.act(ticket, "cancel").status_code == 401
    assert read_with_token(world, ticket, ticket["token"]).json()["status"] == "waiting"
    assert world.client.get(f"{API}/auth/me", headers=world.staff).status_code == 401
    assert world.waiting_codes("A") == ["A-001"]

    enabled = world.client.patch(
        f"{API}/users/{staff_id}", headers=world.admin, json={"is_active": True}
    )
    assert enabled.status_code == 200, enabled.text
    assert world.call("Loket 1").status_code == 200


def test_an_admin_sets_a_new_password_and_the_old_one_stops_working(world: World) -> None:
    staff_id = user_id(world, "klandasan.staff")
    changed = world.client.patch(
        f"{API}/users/{staff_id}", headers=world.clinic_admin, json={"password": "a-new-secret-9"}
    )
    assert changed.status_code == 200, changed.text
    old = world.client.post(
        f"{API}/auth/token", data={"username": "klandasan.staff", "password": STAFF_PASSWORD}
    )
    assert old.status_code == 401
    assert login(world.client, "klandasan.staff", "a-new-secret-9")


def test_who_may_change_an_account(world: World) -> None:
    staff_id = user_id(world, "klandasan.staff")
    admin_id = user_id(world, ADMIN_USERNAME)
    own_admin_id = user_id(world, "klandasan.admin")
    other = World.build(world.client, code="MANGGAR")
    cases = [
        (world.staff, staff_id, {"is_active": False}, 403),  # staff manage no accounts
        (world.kiosk, staff_id, {"is_active": False}, 403),
        (other.clinic_admin, staff_id, {"is_active": False}, 403),  # another clinic's
        (world.clinic_admin, admin_id, {"is_active": False}, 403),  # an admin's account
        (world.clinic_admin, own_admin_id, {"is_active": False}, 409),  # locking oneself out
        (world.admin, admin_id, {"is_active": False}, 409),
        (world.admin, 999_999, {"is_active": False}, 404),
        (world.admin, staff_id, {"is_active": None}, 422),
        (world.admin, staff_id, {"password": "short"}, 422),
        (world.admin, staff_id, {"is_active": "sometimes"}, 422),
        ({}, staff_id, {"is_active": False}, 401),
    ]
    for headers, target, body, expected in cases:
        response = world.client.patch(f"{API}/users/{target}", headers=headers, json=body)
        assert response.status_code == expected, (target, body, response.text)
    accounts = world.client.get(f"{API}/users", headers=world.admin).json()
    assert all(account["is_active"] for account in accounts)
    assert world.call("Loket 1").status_code == 204  # the staff token still works


# --- credentials that are wrong, tampered with or no longer valid --------------------------


def _forged_credentials(world: World, app: FastAPI) -> dict[str, str]:
    staff_token = token_of(world.staff)
    header, payload, signature = staff_token.split(".")
    claims = jwt.decode(staff_token, options={"verify_signature": False})
    admin_claims = {**claims, "sub": str(user_id(world, ADMIN_USERNAME))}
    forged_payload = (
        base64.urlsafe_b64encode(json.dumps(admin_claims).encode()).rstrip(b"=").decode()
    )
    kiosk_key = token_of(world.kiosk)
    device_part, _, secret = kiosk_key.removeprefix("dk_").partition("_")
    now = datetime.now(UTC)
    staff_claims = {"sub": claims["sub"], "iat": now, "exp": now + timedelta(hours=1)}
    return {
        "garbage": "garbage",
        "three dots": "a.b.c",
        "staff token, payload swapped to the admin": f"{header}.{forged_payload}.{signature}",
        "staff token, signature flipped": staff_token[:-4]
        + ("AAAA" if staff_token[-4:] != "AAAA" else "BBBB"),
        "alg none": jwt.encode(staff_claims, key="", algorithm="none"),
        "signed with another key": jwt.encode(staff_claims, "not-the-key" * 4, algorithm="HS256"),
        "expired": jwt.encode(
            {"sub": claims["sub"], "iat": now - timedelta(days=2), "exp": now - timedelta(days=1)},
            app.state.signing_key,
            algorithm="HS256",
        ),
        "device key, wrong secret": f"dk_{device_part}_{secret[::-1]}",
        "device key, no secret": f"dk_{device_part}_",
        "device key, unknown device": f"dk_99999_{secret}",
        "device key, id not a number": f"dk_x{device_part}_{secret}",
    }


def test_garbage_tampered_and_unknown_credentials_are_401_and_change_nothing(
    world: World, app: FastAPI
) -> None:
    waiting = world.take("A")
    before = directory(world)
    queue = world.queue()
    for name, credential in _forged_credentials(world, app).items():
        headers = bearer(credential)
        attempts = {
            "create clinic": world.client.post(f"{API}/clinics", headers=headers, json=NEW_CLINIC),
            "call next": world.call("Loket 1", headers=headers),
            "cancel": world.act(waiting, "cancel", headers=headers),
            # Anonymous phones may take tickets here: bad credentials must not pass as none.
            "take ticket": world.take_response("A", headers=headers),
            "read ticket": world.client.get(f"{API}/tickets/{waiting['id']}", headers=headers),
        }
        for what, response in attempts.items():
            assert response.status_code == 401, (name, what, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer", (name, what)
    assert directory(world) == before
    assert world.queue() == queue
    assert world.waiting_codes("A") == ["A-001"]


def test_a_device_key_naming_a_device_id_beyond_the_id_range_is_401(world: World) -> None:
    """Ten digits pass the key's shape check but exceed the 32-bit id column."""
    secret = token_of(world.kiosk).removeprefix("dk_").partition("_")[2]
    queue = world.queue()
    for device_part in ("2147483648", "9999999999"):
        headers = bearer(f"dk_{device_part}_{secret}")
        assert world.take_response("A", headers=headers).status_code == 401, device_part
        assert world.call("Loket 1", headers=headers).status_code == 401, device_part
    assert world.queue() == queue


def device_id_of(headers: Headers) -> int:
    return int(token_of(headers).removeprefix("dk_").partition("_")[0])


def test_a_revoked_device_key_is_401(world: World) -> None:
    device_id = device_id_of(world.kiosk)
    assert world.take("A")["channel"] == "kiosk"
    revoked = world.client.post(f"{API}/devices/{device_id}/revoke", headers=world.clinic_admin)
    assert revoked.status_code == 200, revoked.text
    first = revoked.json()["revoked_at"]
    assert first is not None
    refused = world.take_response("A")
    assert refused.status_code == 401
    assert world.waiting_codes("A") == ["A-001"]
    again = world.client.post(f"{API}/devices/{device_id}/revoke", headers=world.admin)
    assert again.status_code == 200
    assert again.json()["revoked_at"] == first
    listed = world.client.get(f"{API}/clinics/{world.clinic_id}/devices", headers=world.admin)
    assert {d["id"]: d["revoked_at"] for d in listed.json()}[device_id] == first
    # The display's key is another device: it still works.
    assert world.client.get(f"{API}/auth/me", headers=world.display).status_code == 200


def test_who_may_revoke_a_device(world: World) -> None:
    device_id = device_id_of(world.display)
    other = World.build(world.client, code="MANGGAR")
    for headers, target, expected in [
        (world.staff, device_id, 403),
        (world.kiosk, device_id, 403),
        (world.display, device_id, 403),
        (other.clinic_admin, device_id, 403),
        ({}, device_id, 401),
        (world.admin, 999_999, 404),
    ]:
        response = world.client.post(f"{API}/devices/{target}/revoke", headers=headers)
        assert response.status_code == expected, (target, response.text)
    assert world.client.get(f"{API}/auth/me", headers=world.display).status_code == 200


def test_a_device_key_with_a_latin1_superscript_digit_is_401_not_500(
    world: World, app: FastAPI
) -> None:
    """HTTP header bytes are latin-1: 0xB2 is '²', which str.isdigit() accepts and int() not.

    The test client re-encodes non-ASCII header values as UTF-8, so send the raw byte through
    httpx's ASGI transport, as a real HTTP client (curl) would.
    """
    counter_id = world.counters["Loket 1"]["id"]
    world.take("A")
    queue = world.queue()

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post(
                f"{API}/counters/{counter_id}/call-next",
                headers=[(b"Authorization", b"Bearer dk_\xb2_secret")],
            )

    response = asyncio.run(send())
    assert response.request.headers.raw[-1] == (b"Authorization", b"Bearer dk_\xb2_secret")
    assert response.status_code == 401, response.text
    assert world.queue() == queue


# --- no credentials ----------------------------------------------------------------------


def test_protected_endpoints_without_credentials_are_401_and_change_nothing(
    world: World,
) -> None:
    client, clinic_id = world.client, world.clinic_id
    ticket = called_ticket(world)
    before = directory(world)
    queue = world.queue()
    held = world.ticket(ticket)
    attempts = {
        "create clinic": client.post(f"{API}/clinics", json=NEW_CLINIC),
        "patch clinic": client.patch(f"{API}/clinics/{clinic_id}", json={"name": "Diganti"}),
        "create service": client.post(
            f"{API}/clinics/{clinic_id}/services", json={"name": "Poli KIA", "prefix": "E"}
        ),
        "create counter": client.post(
            f"{API}/clinics/{clinic_id}/counters",
            json={"name": "Loket 3", "service_ids": [world.services["A"]["id"]]},
        ),
        "call next": world.call("Loket 2", headers={}),
        "recall": world.act(ticket, "recall", headers={}),
        "complete": world.act(ticket, "complete", headers={}),
        "transfer": world.act(ticket, "transfer", headers={}, service_id=world.services["B"]["id"]),
        "cancel": world.act(ticket, "cancel", headers={}),
        "read ticket": client.get(f"{API}/tickets/{ticket['id']}"),
        "create device": client.post(
            f"{API}/clinics/{clinic_id}/devices", json={"name": "Kiosk 2", "kind": "kiosk"}
        ),
        "list devices": client.get(f"{API}/clinics/{clinic_id}/devices"),
        "create user": client.post(
            f"{API}/users",
            json={"username": "intruder", "password": "intruder-pw", "role": "admin"},
        ),
        "list users": client.get(f"{API}/users"),
    }
    for what, response in attempts.items():
        assert response.status_code == 401, (what, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer", what
    assert directory(world) == before
    assert world.queue() == queue
    assert world.ticket(ticket) == held
    assert held["status"] == "called"
    assert held["recall_count"] == 0


# --- roles -------------------------------------------------------------------------------


def _directory_writes(world: World, clinic_id: int, headers: Headers) -> dict[str, Response]:
    """One attempt at each directory write of a clinic, as `headers`."""
    client = world.client
    service_id = get_json(client, f"/clinics/{clinic_id}/services")[0]["id"]
    counter_id = get_json(client, f"/clinics/{clinic_id}/counters")[0]["id"]
    return {
        "create clinic": client.post(f"{API}/clinics", headers=headers, json=NEW_CLINIC),
        "patch clinic": client.patch(
            f"{API}/clinics/{clinic_id}", headers=headers, json={"allow_remote_tickets": False}
        ),
        "create service": client.post(
            f"{API}/clinics/{clinic_id}/services",
            headers=headers,
            json={"name": "Poli KIA", "prefix": "E"},
        ),
        "patch service": client.patch(
            f"{API}/services/{service_id}", headers=headers, json={"is_open": False}
        ),
        "create counter": client.post(
            f"{API}/clinics/{clinic_id}/counters",
            headers=headers,
            json={"name": "Loket 3", "service_ids": [service_id]},
        ),
        "patch counter": client.patch(
            f"{API}/counters/{counter_id}", headers=headers, json={"name": "Loket Baru"}
        ),
        "create device": client.post(
            f"{API}/clinics/{clinic_id}/devices",
            headers=headers,
            json={"name": "Kiosk 2", "kind": "kiosk"},
        ),
        "list devices": client.get(f"{API}/clinics/{clinic_id}/devices", headers=headers),
        "create staff": client.post(
            f"{API}/users",
            headers=headers,
            json={
                "username": f"new.staff.{clinic_id}",
                "password": STAFF_PASSWORD,
                "role": "staff",
                "clinic_id": clinic_id,
            },
        ),
    }


def test_staff_and_devices_cannot_change_the_directory(world: World) -> None:
    before = directory(world)
    for who, headers in (
        ("staff", world.staff),
        ("kiosk", world.kiosk),
        ("display", world.display),
    ):
        for what, response in _directory_writes(world, world.clinic_id, headers).items():
            assert response.status_code == 403, (who, what, response.text)
        users = world.client.get(f"{API}/users", headers=headers)
        assert users.status_code == 403, who
    assert directory(world) == before


def test_clinic_admin_manages_its_own_clinic(world: World) -> None:
    client, clinic_id, headers = world.client, world.clinic_id, world.clinic_admin
    service = created(
        client.post(
            f"{API}/clinics/{clinic_id}/services",
            headers=headers,
            json={"name": "Poli KIA", "prefix": "E"},
        )
    )
    counter = created(
        client.post(
            f"{API}/clinics/{clinic_id}/counters",
            headers=headers,
            json={"name": "Ruang KIA", "service_ids": [service["id"]]},
        )
    )
    assert counter["service_ids"] == [service["id"]]
    renamed = client.patch(
        f"{API}/counters/{counter['id']}", headers=headers, json={"name": "Ruang KIA 1"}
    )
    assert renamed.status_code == 200, renamed.text
    renamed_service = client.patch(
        f"{API}/services/{service['id']}", headers=headers, json={"name": "KIA"}
    )
    assert renamed_service.status_code == 200, renamed_service.text
    device = created(
        client.post(
            f"{API}/clinics/{clinic_id}/devices",
            headers=headers,
            json={"name": "Kiosk KIA", "kind": "kiosk"},
        )
    )
    devices = client.get(f"{API}/clinics/{clinic_id}/devices", headers=headers)
    assert devices.status_code == 200
    assert device["id"] in [listed["id"] for listed in devices.json()]
    for role in ("staff", "clinic_admin"):
        user = created(
            client.post(
                f"{API}/users",
                headers=headers,
                json={
                    "username": f"kia.{role}",
                    "password": STAFF_PASSWORD,
                    "role": role,
                    "clinic_id": clinic_id,
                },
            )
        )
        assert (user["role"], user["clinic_id"]) == (role, clinic_id)

    # What it made works: the kiosk issues at the new service, the new staff calls it.
    ticket = world.take_response("A", headers=bearer(device["key"]))
    assert ticket.status_code == 201, ticket.text
    kia_ticket = client.post(
        f"{API}/clinics/{clinic_id}/tickets",
        headers=bearer(device["key"]),
        json={"service_id": service["id"]},
    )
    assert created(kia_ticket)["code"] == "E-001"
    kia_staff = login(client, "kia.staff", STAFF_PASSWORD)
    called = client.post(f"{API}/counters/{counter['id']}/call-next", headers=kia_staff)
    assert called.status_code == 200, called.text
    assert called.json()["code"] == "E-001"


def test_clinic_admin_cannot_touch_another_clinic_nor_make_an_admin(
    world: World, client: TestClient
) -> None:
    other = World.build(client, code="SEPINGGAN")
    before, other_before = directory(world), directory(other)
    for what, response in _directory_writes(world, other.clinic_id, world.clinic_admin).items():
        assert response.status_code == 403, (what, response.text)
    # An admin with a clinic is refused by the schema itself (an admin belongs to no clinic).
    for clinic_id, status in ((None, 403), (world.clinic_id, 422)):
        made_admin = client.post(
            f"{API}/users",
            headers=world.clinic_admin,
            json={
                "username": "sneaky.admin",
                "password": STAFF_PASSWORD,
                "role": "admin",
                "clinic_id": clinic_id,
            },
        )
        assert made_admin.status_code == status, made_admin.text
    assert directory(world) == before
    assert directory(other) == other_before
    refused = client.post(
        f"{API}/auth/token", data={"username": "sneaky.admin", "password": STAFF_PASSWORD}
    )
    assert refused.status_code == 401


def test_admin_can_do_all(world: World, client: TestClient) -> None:
    other = World.build(client, code="SEPINGGAN")
    for target in (world, other):
        for what, response in _directory_writes(target, target.clinic_id, world.admin).items():
            if what == "create clinic" and target is other:
                assert response.status_code == 409, response.text  # same code twice
                continue
            assert response.status_code in (200, 201), (what, response.text)
        clinic = get_json(client, f"/clinics/{target.clinic_id}")
        assert clinic["allow_remote_tickets"] is False
    codes = [clinic["code"] for clinic in get_json(client, "/clinics")]
    assert codes == ["KLANDASAN", "SEPINGGAN", "MANGGAR"]
    new_admin = created(
        client.post(
            f"{API}/users",
            headers=world.admin,
            json={"username": "admin.dinkes", "password": "dinkes-password", "role": "admin"},
        )
    )
    assert (new_admin["role"], new_admin["clinic_id"]) == ("admin", None)
    dinkes = login(client, "admin.dinkes", "dinkes-password")
    assert world.call("Loket 1", headers=dinkes).status_code == 204
    assert other.call("Loket 1", headers=dinkes).status_code == 204


def test_patch_clinic_own_clinic_admin_only(world: World, client: TestClient) -> None:
    other = World.build(client, code="SEPINGGAN")
    path = f"{API}/clinics/{world.clinic_id}"
    original = get_json(client, f"/clinics/{world.clinic_id}")
    for who, headers, status in (
        ("other clinic's admin", other.clinic_admin, 403),
        ("other clinic's staff", other.staff, 403),
        ("own staff", world.staff, 403),
        ("own kiosk", world.kiosk, 403),
        ("nobody", {}, 401),
    ):
        response = client.patch(path, headers=headers, json={"name": "Diganti"})
        assert response.status_code == status, (who, response.text)
        assert get_json(client, f"/clinics/{world.clinic_id}") == original, who

    allowed = client.patch(path, headers=world.clinic_admin, json={"name": "Puskesmas Baru"})
    assert allowed.status_code == 200, allowed.text
    assert get_json(client, f"/clinics/{world.clinic_id}")["name"] == "Puskesmas Baru"
    assert get_json(client, f"/clinics/{other.clinic_id}")["name"] == "Puskesmas Sepinggan"


# --- clinic isolation --------------------------------------------------------------------


def test_staff_cannot_call_next_at_another_clinics_counter(
    world: World, client: TestClient
) -> None:
    other = World.build(client, code="SEPINGGAN")
    other.take("A")
    queue = other.queue()
    for headers in (world.staff, world.clinic_admin):
        assert other.call("Loket 1", headers=headers).status_code == 403
    assert other.queue() == queue
    assert other.waiting_codes("A") == ["A-001"]
    assert other.call("Loket 1").status_code == 200  # its own staff still can


def test_staff_cannot_act_on_another_clinics_ticket(world: World, client: TestClient) -> None:
    other = World.build(client, code="SEPINGGAN")
    ticket = called_ticket(other)
    other.take("A")
    held, queue = other.ticket(ticket), other.queue()
    for headers in (world.staff, world.clinic_admin):
        for action in (*STAFF_ACTIONS, "cancel"):
            response = other.act(ticket, action, headers=headers)
            assert response.status_code == 403, (action, response.text)
        moved = other.act(ticket, "transfer", headers=headers, service_id=other.services["B"]["id"])
        assert moved.status_code == 403, moved.text
        read = client.get(f"{API}/tickets/{ticket['id']}", headers=headers)
        assert read.status_code == 403
    assert other.ticket(ticket) == held
    assert (held["status"], held["recall_count"], held["leg"]) == ("called", 0, 1)
    assert other.queue() == queue


def test_only_a_clinics_own_kiosk_takes_tickets_there(world: World, client: TestClient) -> None:
    other = World.build(client, code="SEPINGGAN")
    refusals = (
        (other, world.kiosk),  # a kiosk of another clinic
        (other, world.display),
        (other, other.display),  # a display of the clinic itself
        (world, world.display),
        (other, world.staff),  # staff of another clinic
    )
    for target, headers in refusals:
        response = target.take_response("A", headers=headers)
        assert response.status_code == 403, response.text
    assert world.waiting_codes("A") == []
    assert other.waiting_codes("A") == []
    assert other.take("A", headers=other.kiosk)["channel"] == "kiosk"
    assert other.take("A", headers=other.staff)["channel"] == "staff"
    assert other.waiting_codes("A") == ["A-001", "A-002"]


def test_device_keys_cannot_do_staff_work(world: World) -> None:
    ticket = called_ticket(world)
    world.take("A")
    held, queue = world.ticket(ticket), world.queue()
    for headers in (world.kiosk, world.display):
        assert world.call("Loket 2", headers=headers).status_code == 403
        for action in STAFF_ACTIONS:
            assert world.act(ticket, action, headers=headers).status_code == 403, action
        moved = world.act(ticket, "transfer", headers=headers, service_id=world.services["B"]["id"])
        assert moved.status_code == 403
        read = world.client.get(f"{API}/tickets/{ticket['id']}", headers=headers)
        assert read.status_code == 403
    assert world.ticket(ticket) == held
    assert world.queue() == queue
    assert world.waiting_codes("A") == ["A-002"]


# --- ticket tokens -----------------------------------------------------------------------


def test_a_ticket_is_read_with_its_own_token_only(world: World) -> None:
    ticket, second = world.take("A"), world.take("A")
    path = f"{API}/tickets/{ticket['id']}"

    by_query = read_with_token(world, ticket, ticket["token"])
    assert by_query.status_code == 200, by_query.text
    assert by_query.json()["code"] == "A-001"
    assert by_query.json()["position"] == 0
    assert "token" not in by_query.json()
    by_header = world.client.get(path, headers={"X-Ticket-Token": ticket["token"]})
    assert by_header.status_code == 200
    assert by_header.json() == by_query.json()

    for token in ("wrong", ticket["token"][:-1], second["token"]):
        assert read_with_token(world, ticket, token).status_code == 401
        assert world.client.get(path, headers={"X-Ticket-Token": token}).status_code == 401
    assert world.client.get(path).status_code == 401
    assert world.client.get(path, headers=world.staff).status_code == 200


def test_cancel_with_the_ticket_token_works_once(world: World) -> None:
    ticket, second = world.take("A"), world.take("A")
    path = f"{API}/tickets/{ticket['id']}/cancel"
    for token in ("wrong", second["token"]):
        assert world.client.post(path, params={"token": token}).status_code == 401
        assert world.client.post(path, headers={"X-Ticket-Token": token}).status_code == 401
    assert world.client.post(path).status_code == 401
    assert world.waiting_codes("A") == ["A-001", "A-002"]

    cancelled = world.client.post(path, headers={"X-Ticket-Token": ticket["token"]})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = world.client.post(path, params={"token": ticket["token"]})
    assert again.status_code == 409
    assert read_with_token(world, ticket, ticket["token"]).json()["status"] == "cancelled"
    assert world.waiting_codes("A") == ["A-002"]


# --- secrets are shown once and kept only as digests ---------------------------------------


def test_device_keys_are_shown_only_at_creation(world: World) -> None:
    created_device = created(
        world.client.post(
            f"{API}/clinics/{world.clinic_id}/devices",
            headers=world.clinic_admin,
            json={"name": "Kiosk lantai 2", "kind": "kiosk"},
        )
    )
    assert created_device["key"].startswith("dk_")
    for headers in (world.admin, world.clinic_admin):
        devices: list[Json] = get_json(world.client, f"/clinics/{world.clinic_id}/devices", headers)
        assert len(devices) == 3
        for device in devices:
            assert set(device) == {"id", "clinic_id", "name", "kind", "revoked_at"}
    assert world.take("A", headers=bearer(created_device["key"]))["channel"] == "kiosk"


def test_user_responses_never_carry_a_password(world: World) -> None:
    response = world.client.post(
        f"{API}/users",
        headers=world.admin,
        json={
            "username": "perawat.ani",
            "password": STAFF_PASSWORD,
            "role": "staff",
            "clinic_id": world.clinic_id,
        },
    )
    user = created(response)
    assert STAFF_PASSWORD not in response.text
    assert not [key for key in user if "password" in key]
    assert user["username"] == "perawat.ani"
    for headers in (world.admin, world.clinic_admin):
        listed = world.client.get(f"{API}/users", headers=headers)
        assert listed.status_code == 200
        assert "password" not in listed.text
        assert "perawat.ani" in [u["username"] for u in listed.json()]


def _every_stored_text(engine: Engine) -> str:
    texts: list[str] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa_select(table)):
                texts.extend(str(value) for value in row if value is not None)
    return "\n".join(texts)


def test_secrets_are_stored_only_as_digests(world: World, engine: Engine) -> None:
    device = created(
        world.client.post(
            f"{API}/clinics/{world.clinic_id}/devices",
            headers=world.admin,
            json={"name": "Kiosk lantai 2", "kind": "kiosk"},
        )
    )
    kiosk = world.take("A")
    phone = world.take("A", headers={})
    stored = _every_stored_text(engine)
    assert "klandasan.staff" in stored  # the scan does see the tables
    secret = device["key"].partition("_")[2].partition("_")[2]
    for value in (secret, kiosk["token"], phone["token"], STAFF_PASSWORD, ADMIN_PASSWORD):
        assert value not in stored


def test_a_ticket_taken_with_an_idempotency_key_keeps_no_clear_token(
    world: World, engine: Engine
) -> None:
    """The spec keeps ticket tokens only as a SHA-256 digest; a replay record must too."""
    first = world.client.post(
        f"{API}/clinics/{world.clinic_id}/tickets",
        headers={**world.kiosk, "Idempotency-Key": "kiosk-1-press-0001"},
        json={"service_id": world.services["A"]["id"]},
    )
    ticket = created(first)
    assert ticket["token"] not in _every_stored_text(engine)


# --- phone (remote) tickets --------------------------------------------------------------


def test_phone_tickets_follow_the_clinics_setting(world: World) -> None:
    phone = world.take("A", headers={})
    assert phone["channel"] == "phone"
    assert read_with_token(world, phone, phone["token"]).status_code == 200

    path = f"{API}/clinics/{world.clinic_id}"
    off = world.client.patch(path, headers=world.clinic_admin, json={"allow_remote_tickets": False})
    assert off.status_code == 200, off.text
    assert off.json()["allow_remote_tickets"] is False
    refused = world.take_response("A", headers={})
    assert refused.status_code == 403, refused.text
    assert "token" not in refused.json()
    assert world.waiting_codes("A") == ["A-001"]
    assert world.take("A")["channel"] == "kiosk"  # the kiosk is not a phone
    assert world.waiting_codes("A") == ["A-001", "A-002"]

    on = world.client.patch(path, headers=world.clinic_admin, json={"allow_remote_tickets": True})
    assert on.status_code == 200
    assert world.take("A", headers={})["code"] == "A-003"


def test_anonymous_tickets_are_rate_limited(world: World) -> None:
    codes = [world.take("A", headers={})["code"] for _ in range(5)]
    assert codes == ["A-001", "A-002", "A-003", "A-004", "A-005"]
    for _ in range(2):
        limited = world.take_response("A", headers={})
        assert limited.status_code == 429, limited.text
        assert "token" not in limited.json()
    assert world.waiting_codes("A") == codes
    # Kiosks and staff are not phones: the limit is not theirs.
    assert world.take("A")["code"] == "A-006"
    assert world.take("A", headers=world.staff)["code"] == "A-007"
    assert len(world.waiting_codes("A")) == 7


# --- restart -----------------------------------------------------------------------------


def test_a_restart_keeps_staff_logged_in_and_device_keys_valid(
    world: World, settings: Settings, engine: Engine, clock: FakeClock
) -> None:
    first = world.take("A")
    restarted = create_app(settings, engine=engine, clock=clock)
    with TestClient(restarted) as client:
        called = client.post(
            f"{API}/counters/{world.counters['Loket 1']['id']}/call-next", headers=world.staff
        )
        assert called.status_code == 200, called.text
        assert called.json()["id"] == first["id"]
        taken = client.post(
            f"{API}/clinics/{world.clinic_id}/tickets",
            headers=world.kiosk,
            json={"service_id": world.services["A"]["id"]},
        )
        assert created(taken)["code"] == "A-002"
        assert created(taken)["channel"] == "kiosk"
        for headers in (world.admin, world.clinic_admin):
            assert client.get(f"{API}/users", headers=headers).status_code == 200
        patched = client.patch(
            f"{API}/clinics/{world.clinic_id}", headers=world.clinic_admin, json={"name": "Baru"}
        )
        assert patched.status_code == 200
        users = client.get(f"{API}/users", headers=world.admin).json()
        assert [u["username"] for u in users].count(ADMIN_USERNAME) == 1
