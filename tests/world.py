"""Builds a clinic through the API in one line, so tests read like the scenario."""

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-password"
STAFF_PASSWORD = "staff-password"

Headers = dict[str, str]
Json = dict[str, Any]


def login(client: TestClient, username: str, password: str) -> Headers:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def created(response: Response) -> Json:
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


@dataclass
class World:
    client: TestClient
    admin: Headers
    clinic: Json
    services: dict[str, Json] = field(default_factory=dict)
    counters: dict[str, Json] = field(default_factory=dict)
    staff: Headers = field(default_factory=dict)
    clinic_admin: Headers = field(default_factory=dict)
    kiosk: Headers = field(default_factory=dict)
    display: Headers = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        client: TestClient,
        *,
        code: str = "KLANDASAN",
        timezone: str = "Asia/Makassar",
        allow_remote_tickets: bool = True,
    ) -> "World":
        admin = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        clinic = created(
            client.post(
                "/api/v1/clinics",
                headers=admin,
                json={
                    "code": code,
                    "name": f"Puskesmas {code.title()}",
                    "timezone": timezone,
                    "allow_remote_tickets": allow_remote_tickets,
                },
            )
        )
        world = cls(client=client, admin=admin, clinic=clinic)
        world.add_service("Pendaftaran", "A", target_wait_minutes=15)
        world.add_service("Poli Umum", "B", entry=False, target_wait_minutes=30)
        world.add_service("Poli Gigi", "C", daily_quota=3)
        world.add_service("Laboratorium", "D", entry=False)
        world.add_counter("Loket 1", "A")
        world.add_counter("Loket 2", "A")
        world.add_counter("Ruang Umum", "B")
        world.add_counter("Ruang Gigi", "C")
        world.staff = world.add_user(f"{code.lower()}.staff", "staff")
        world.clinic_admin = world.add_user(f"{code.lower()}.admin", "clinic_admin")
        world.kiosk = world.add_device("Kiosk pintu depan", "kiosk")
        world.display = world.add_device("TV ruang tunggu", "display")
        return world

    @property
    def clinic_id(self) -> int:
        clinic_id: int = self.clinic["id"]
        return clinic_id

    def add_service(self, name: str, prefix: str, **fields: Any) -> Json:
        service = created(
            self.client.post(
                f"/api/v1/clinics/{self.clinic_id}/services",
                headers=self.admin,
                json={"name": name, "prefix": prefix, **fields},
            )
        )
        self.services[prefix] = service
        return service

    def add_counter(self, name: str, *prefixes: str) -> Json:
        service_ids = [self.services[p]["id"] for p in prefixes]
        counter = created(
            self.client.post(
                f"/api/v1/clinics/{self.clinic_id}/counters",
                headers=self.admin,
                json={"name": name, "service_ids": service_ids},
            )
        )
        self.counters[name] = counter
        return counter

    def add_user(self, username: str, role: str) -> Headers:
        created(
            self.client.post(
                "/api/v1/users",
                headers=self.admin,
                json={
                    "username": username,
                    "password": STAFF_PASSWORD,
                    "role": role,
                    "clinic_id": self.clinic_id,
                },
            )
        )
        return login(self.client, username, STAFF_PASSWORD)

    def add_device(self, name: str, kind: str) -> Headers:
        device = created(
            self.client.post(
                f"/api/v1/clinics/{self.clinic_id}/devices",
                headers=self.admin,
                json={"name": name, "kind": kind},
            )
        )
        return {"Authorization": f"Bearer {device['key']}"}

    def take_response(
        self, prefix: str = "A", priority: str = "none", headers: Headers | None = None, **kw: Any
    ) -> Response:
        return self.client.post(
            f"/api/v1/clinics/{self.clinic_id}/tickets",
            headers=self.kiosk if headers is None else headers,
            json={"service_id": self.services[prefix]["id"], "priority": priority},
            **kw,
        )

    def take(
        self, prefix: str = "A", priority: str = "none", headers: Headers | None = None
    ) -> Json:
        return created(self.take_response(prefix, priority, headers))

    def call(self, counter: str = "Loket 1", headers: Headers | None = None) -> Response:
        return self.client.post(
            f"/api/v1/counters/{self.counters[counter]['id']}/call-next",
            headers=self.staff if headers is None else headers,
        )

    def act(
        self, ticket: Json, action: str, headers: Headers | None = None, **body: Any
    ) -> Response:
        return self.client.post(
            f"/api/v1/tickets/{ticket['id']}/{action}",
            headers=self.staff if headers is None else headers,
            json=body or None,
        )

    def ticket(self, ticket: Json) -> Json:
        response = self.client.get(f"/api/v1/tickets/{ticket['id']}", headers=self.staff)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    def queue(self) -> Json:
        response = self.client.get(f"/api/v1/clinics/{self.clinic_id}/queue")
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    def waiting_codes(self, prefix: str) -> list[str]:
        service_id = self.services[prefix]["id"]
        for service in self.queue()["services"]:
            if service["service_id"] == service_id:
                return [ticket["code"] for ticket in service["waiting"]]
        raise AssertionError(f"no service {prefix}")
