"""Bad input gets a clear 4xx, never a 500, and never changes anything (API contract v1).

Every refusal here is checked twice: the exact status, and that the clinics, services, counters,
devices, users and queues read back exactly as before the request.
"""

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.clock import FakeClock
from tests.world import Headers, Json, World

API = "/api/v1"
OUT_OF_RANGE_IDS = ["0", "-1", str(2**31), str(2**63), "abc"]
UNKNOWN_IDS = [2**31 - 1, 999_999]
UNKNOWN = 999_999
STAFF_ACTIONS = ("recall", "start", "complete", "no-show", "requeue", "cancel", "transfer")
# the contract's "Ticket states": the only states each action may start from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "recall": frozenset({"called"}),
    "start": frozenset({"called"}),
    "complete": frozenset({"called", "serving"}),
    "no-show": frozenset({"called"}),
    "requeue": frozenset({"no_show"}),
    "transfer": frozenset({"called", "serving"}),
    "cancel": frozenset({"waiting"}),
}


@dataclass(frozen=True)
class Raw:
    """A request body sent byte for byte, for what `json=` cannot express."""

    content: bytes
    content_type: str = "application/json"


@pytest.fixture
def api(world: World) -> Iterator[TestClient]:
    """The world's app, answering a server error with a 500 instead of raising in the test."""
    with TestClient(world.client.app, raise_server_exceptions=False) as client:
        yield client


def send(
    client: TestClient, method: str, path: str, headers: Headers, body: Any = None
) -> Response:
    """`body` None sends no body; a Raw is sent as is; anything else as JSON (NaN allowed)."""
    if body is None:
        return client.request(method, API + path, headers=headers)
    if isinstance(body, Raw):
        content, content_type = body.content, body.content_type
    else:
        content, content_type = json.dumps(body).encode(), "application/json"
    return client.request(
        method, API + path, headers={**headers, "content-type": content_type}, content=content
    )


def state(client: TestClient, admin: Headers, clinic_ids: list[int] | None = None) -> Json:
    """Everything the API shows about the deployment (of `clinic_ids`, default: every clinic)."""

    def read(path: str, headers: Headers | None = None) -> Any:
        response = client.get(API + path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    clinics = read("/clinics")
    seen: Json = {"clinics": clinics, "users": read("/users", admin)}
    for clinic_id in [c["id"] for c in clinics] if clinic_ids is None else clinic_ids:
        for part in ("services", "counters", "queue"):
            seen[f"{clinic_id}/{part}"] = read(f"/clinics/{clinic_id}/{part}")
        seen[f"{clinic_id}/devices"] = read(f"/clinics/{clinic_id}/devices", admin)
    return seen


def has_detail(response: Response) -> bool:
    try:
        return "detail" in response.json()
    except ValueError:
        return False


@dataclass
class Refusals:
    """Sends requests that must be refused and collects every way they were not."""

    world: World
    client: TestClient
    failures: list[str] = field(default_factory=list)
    # The state after the last refusal, which is the state before the next one.
    last: Json | None = None

    def expect(
        self,
        status: int,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Headers | None = None,
        label: str = "",
    ) -> Response:
        before = self.last or state(self.client, self.world.admin)
        response = send(
            self.client, method, path, self.world.admin if headers is None else headers, body
        )
        where = f"{method} {path} {label or repr(body)[:80]}"
        if response.status_code != status:
            self.failures.append(
                f"{where}: {response.status_code} instead of {status}: {response.text[:200]}"
            )
        elif not has_detail(response):
            self.failures.append(f"{where}: no {{'detail': ...}} in {response.text[:200]}")
        self.last = state(self.client, self.world.admin)
        if self.last != before:
            self.failures.append(f"{where}: answered {response.status_code} but changed state")
        return response

    def forget(self) -> None:
        """Something was changed on purpose: read the state afresh before the next refusal."""
        self.last = None

    def check(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def take_raw(
    world: World, client: TestClient, body: Any, headers: Headers | None = None
) -> Response:
    headers = world.kiosk if headers is None else headers
    return send(client, "POST", f"/clinics/{world.clinic_id}/tickets", headers, body)


def other_clinic(world: World) -> World:
    return World.build(world.client, code="SEPINGGAN")


# --- ids in paths ---------------------------------------------------------------------------

ID_ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/clinics/{id}", "none"),
    ("PATCH", "/clinics/{id}", "name"),
    ("GET", "/clinics/{id}/services", "none"),
    ("POST", "/clinics/{id}/services", "service"),
    ("PATCH", "/services/{id}", "name"),
    ("GET", "/clinics/{id}/counters", "none"),
    ("POST", "/clinics/{id}/counters", "counter"),
    ("GET", "/counters/{id}", "none"),
    ("PATCH", "/counters/{id}", "name"),
    ("POST", "/counters/{id}/call-next", "none"),
    ("GET", "/clinics/{id}/devices", "none"),
    ("POST", "/clinics/{id}/devices", "device"),
    ("POST", "/clinics/{id}/tickets", "ticket"),
    ("GET", "/clinics/{id}/queue", "none"),
    ("GET", "/tickets/{id}", "none"),
    *[("POST", f"/tickets/{{id}}/{action}", "none") for action in STAFF_ACTIONS[:-1]],
    ("POST", "/tickets/{id}/transfer", "transfer"),
]


def route_body(world: World, kind: str) -> Json | None:
    """A body the route would accept, so that only the id can be what is refused."""
    bodies: dict[str, Json | None] = {
        "none": None,
        "name": {"name": "Nama Baru"},
        "service": {"name": "Farmasi", "prefix": "F"},
        "counter": {"name": "Loket 9", "service_ids": [world.services["A"]["id"]]},
        "device": {"name": "Kiosk samping", "kind": "kiosk"},
        "ticket": {"service_id": world.services["A"]["id"]},
        "transfer": {"service_id": world.services["B"]["id"]},
    }
    return bodies[kind]


def busy(world: World) -> None:
    """A ticket at Loket 1 and one waiting, so that a wrongly accepted action would show."""
    world.take("A")
    world.take("A")
    assert world.call("Loket 1").status_code == 200


@pytest.mark.parametrize("bad_id", OUT_OF_RANGE_IDS)
def test_out_of_range_ids_in_paths_are_422(world: World, api: TestClient, bad_id: str) -> None:
    busy(world)
    refusals = Refusals(world, api)
    for method, template, kind in ID_ROUTES:
        path = template.format(id=bad_id)
        # Ticket ids are 64-bit (kept below 2**53 for JavaScript): 2**31 is merely unknown.
        ticket_route = template.startswith("/tickets/")
        expected = 404 if ticket_route and bad_id == str(2**31) else 422
        refusals.expect(expected, method, path, route_body(world, kind))
    refusals.check()


@pytest.mark.parametrize("unknown_id", UNKNOWN_IDS)
def test_unknown_ids_in_paths_are_404(world: World, api: TestClient, unknown_id: int) -> None:
    busy(world)
    refusals = Refusals(world, api)
    for method, template, kind in ID_ROUTES:
        path = template.format(id=unknown_id)
        refusals.expect(404, method, path, route_body(world, kind))
    refusals.check()


# --- bodies -------------------------------------------------------------------------------
# "$A" … "$D" stand for the world's services, "$clinic" for its clinic, "$other" for service A
# of a second clinic and "$other_code" for that clinic's code.

Case = tuple[str, Any, int]

NON_OBJECT_BODIES: list[Case] = [
    ("JSON array", Raw(b"[]"), 422),
    ("JSON string", Raw(b'"Puskesmas"'), 422),
    ("JSON number", Raw(b"42"), 422),
    ("JSON true", Raw(b"true"), 422),
    ("JSON null", Raw(b"null"), 422),
    ("empty body", Raw(b""), 422),
    ("truncated JSON", Raw(b'{"name": '), 422),
    ("not JSON", Raw(b"name=Loket"), 422),
    ("form body", Raw(b"name=Loket&prefix=F", "application/x-www-form-urlencoded"), 422),
    ("text/plain body", Raw(b'{"name": "Loket"}', "text/plain"), 422),
    ("invalid UTF-8", Raw(b'{"name": "\xff\xfe"}'), 400),
    ("nested 30000 deep", Raw(b"[" * 30_000 + b"]" * 30_000), 400),
    ("over the body size limit", Raw(b'{"name": "' + b"N" * 70_000 + b'"}'), 413),
]


def clinic(**fields: Any) -> Json:
    return {"code": "BARU", "name": "Puskesmas Baru", **fields}


def service(**fields: Any) -> Json:
    return {"name": "Farmasi", "prefix": "F", **fields}


def counter(**fields: Any) -> Json:
    return {"name": "Loket 3", "service_ids": ["$A"], **fields}


def user(omit: str = "", **fields: Any) -> Json:
    body = {
        "username": "baru.staff",
        "password": "staff-password",
        "role": "staff",
        "clinic_id": "$clinic",
        **fields,
    }
    body.pop(omit, None)
    return body


def without(body: Json, name: str) -> Json:
    return {key: value for key, value in body.items() if key != name}


BODY_CASES: dict[str, list[Case]] = {
    "clinics": [
        ("empty object", {}, 422),
        ("missing code", without(clinic(), "code"), 422),
        ("missing name", without(clinic(), "name"), 422),
        ("code null", clinic(code=None), 422),
        ("code is a number", clinic(code=123), 422),
        ("name is a list", clinic(name=["Puskesmas"]), 422),
        ("name is an object", clinic(name={"id": "Puskesmas"}), 422),
        ("remote not a bool", clinic(allow_remote_tickets="mungkin"), 422),
        ("code 33 chars", clinic(code="K" * 33), 422),
        ("name 121 chars", clinic(name="N" * 121), 422),
        ("name 60000 chars", clinic(name="N" * 60_000), 422),
        ("name 100000 chars (over the body size limit)", clinic(name="N" * 100_000), 413),
        ("address 501 chars", clinic(address="a" * 501), 422),
        ("opening_hours 501 chars", clinic(opening_hours="h" * 501), 422),
        ("empty code", clinic(code=""), 422),
        ("blank name", clinic(name="   "), 422),
        ("NUL in code", clinic(code="BA\x00RU"), 422),
        ("NUL in name", clinic(name="Puskesmas\x00"), 422),
        ("NUL in address", clinic(address="Jl. A\x00"), 422),
        ("NUL in opening_hours", clinic(opening_hours="\x00"), 422),
        ("newline in name", clinic(name="Pus\nkesmas"), 422),
        ("ESC in name", clinic(name="\x1b[2JPuskesmas"), 422),
        ("DEL in code", clinic(code="BARU\x7f"), 422),
        ("tab in address", clinic(address="Jl.\tA"), 422),
        ("timezone Mars", clinic(timezone="Mars/Olympus"), 422),
        ("timezone empty", clinic(timezone=""), 422),
        ("timezone null", clinic(timezone=None), 422),
        ("timezone lower case", clinic(timezone="asia/makassar"), 422),
        ("timezone an offset", clinic(timezone="+08:00"), 422),
        ("timezone a path", clinic(timezone="../../etc/passwd"), 422),
        ("timezone NUL", clinic(timezone="Asia/Makassar\x00"), 422),
        ("duplicate code", clinic(code="KLANDASAN"), 409),
        ("duplicate code, padded", clinic(code=" KLANDASAN "), 409),
    ],
    "clinic": [
        ("name null", {"name": None}, 422),
        ("code null", {"code": None}, 422),
        ("timezone null", {"timezone": None}, 422),
        ("remote null", {"allow_remote_tickets": None}, 422),
        ("timezone Mars", {"timezone": "Mars/Olympus"}, 422),
        ("empty name", {"name": ""}, 422),
        ("NUL in name", {"name": "Puskesmas\x00"}, 422),
        ("address 501 chars", {"address": "a" * 501}, 422),
        ("ESC in opening_hours", {"opening_hours": "07.30\x1b"}, 422),
        ("code of another clinic", {"code": "$other_code"}, 409),
        ("valid name, taken code", {"name": "Nama Baru", "code": "$other_code"}, 409),
        ("valid name, bad timezone", {"name": "Nama Baru", "timezone": "Mars/Olympus"}, 422),
    ],
    "services": [
        ("empty object", {}, 422),
        ("missing prefix", without(service(), "prefix"), 422),
        ("missing name", without(service(), "name"), 422),
        ("prefix ABC", service(prefix="ABC"), 422),
        ("prefix 1", service(prefix="1"), 422),
        ("prefix empty", service(prefix=""), 422),
        ("prefix blank", service(prefix=" "), 422),
        ("prefix A1", service(prefix="A1"), 422),
        ("prefix F-", service(prefix="F-"), 422),
        ("prefix non-ASCII", service(prefix="\u00c4"), 422),
        ("prefix NUL", service(prefix="F\x00"), 422),
        ("prefix a number", service(prefix=1), 422),
        ("prefix null", service(prefix=None), 422),
        ("duplicate prefix", service(prefix="A"), 409),
        ("duplicate prefix, lower case", service(prefix="a"), 409),
        ("duplicate prefix, padded", service(prefix=" c "), 409),
        ("quota -1", service(daily_quota=-1), 422),
        ("quota 0", service(daily_quota=0), 422),
        ("quota 10**20", service(daily_quota=10**20), 422),
        ("quota 2**63", service(daily_quota=2**63), 422),
        ("quota a word", service(daily_quota="banyak"), 422),
        ("quota 1.5", service(daily_quota=1.5), 422),
        ("quota a list", service(daily_quota=[3]), 422),
        ("target -1", service(target_wait_minutes=-1), 422),
        ("target 10**20", service(target_wait_minutes=10**20), 422),
        ("target over a day", service(target_wait_minutes=24 * 60 + 1), 422),
        ("priority lead -5", service(priority_lead_minutes=-5), 422),
        ("service minutes 10**20", service(default_service_minutes=10**20), 422),
        ("entry a word", service(entry="mungkin"), 422),
        ("is_open null", service(is_open=None), 422),
        ("name empty", service(name=""), 422),
        ("name 121 chars", service(name="F" * 121), 422),
        ("name NUL", service(name="Farmasi\x00"), 422),
        ("name BEL", service(name="Farmasi\x07"), 422),
        ("name a huge number", service(name=2**63), 422),
    ],
    "service": [
        ("name null", {"name": None}, 422),
        ("prefix null", {"prefix": None}, 422),
        ("entry null", {"entry": None}, 422),
        ("is_open null", {"is_open": None}, 422),
        ("priority lead null", {"priority_lead_minutes": None}, 422),
        ("service minutes null", {"default_service_minutes": None}, 422),
        ("prefix of B", {"prefix": "B"}, 409),
        ("prefix of B, lower case", {"prefix": "b"}, 409),
        ("prefix ABC", {"prefix": "ABC"}, 422),
        ("prefix empty", {"prefix": ""}, 422),
        ("quota -1", {"daily_quota": -1}, 422),
        ("quota 0", {"daily_quota": 0}, 422),
        ("quota 10**20", {"daily_quota": 10**20}, 422),
        ("target -1", {"target_wait_minutes": -1}, 422),
        ("target 10**20", {"target_wait_minutes": 10**20}, 422),
        ("name NUL", {"name": "Pendaftaran\x00"}, 422),
        ("name 121 chars", {"name": "P" * 121}, 422),
        ("valid name, taken prefix", {"name": "Loket Depan", "prefix": "B"}, 409),
        ("valid name, bad quota", {"name": "Loket Depan", "daily_quota": -1}, 422),
        ("valid quota, name null", {"daily_quota": 5, "name": None}, 422),
    ],
    "counters": [
        ("empty object", {}, 422),
        ("missing service_ids", without(counter(), "service_ids"), 422),
        ("missing name", without(counter(), "name"), 422),
        ("service_ids empty", counter(service_ids=[]), 422),
        ("service_ids null", counter(service_ids=None), 422),
        ("service_ids not a list", counter(service_ids="$A"), 422),
        ("service id 0", counter(service_ids=[0]), 422),
        ("service id -1", counter(service_ids=[-1]), 422),
        ("service id 2**31", counter(service_ids=[2**31]), 422),
        ("service id 2**63", counter(service_ids=[2**63]), 422),
        ("service id 10**20", counter(service_ids=[10**20]), 422),
        ("service id abc", counter(service_ids=["abc"]), 422),
        ("service id null", counter(service_ids=[None]), 422),
        ("nonexistent service", counter(service_ids=[UNKNOWN]), 422),
        ("service of another clinic", counter(service_ids=["$other"]), 422),
        ("own and other clinic's services", counter(service_ids=["$A", "$other"]), 422),
        ("own and nonexistent services", counter(service_ids=["$A", UNKNOWN]), 422),
        ("51 service ids", counter(service_ids=["$A"] * 51), 422),
        ("duplicate name", counter(name="Loket 1"), 409),
        ("duplicate name, padded", counter(name="  Loket 1 "), 409),
        ("name empty", counter(name=""), 422),
        ("name null", counter(name=None), 422),
        ("name 121 chars", counter(name="L" * 121), 422),
        ("name NUL", counter(name="Loket\x003"), 422),
        ("name CR", counter(name="Loket\r3"), 422),
    ],
    "counter": [
        ("name null", {"name": None}, 422),
        ("service_ids null", {"service_ids": None}, 422),
        ("service_ids empty", {"service_ids": []}, 422),
        ("service id 0", {"service_ids": [0]}, 422),
        ("service id 2**63", {"service_ids": [2**63]}, 422),
        ("nonexistent service", {"service_ids": [UNKNOWN]}, 422),
        ("service of another clinic", {"service_ids": ["$other"]}, 422),
        ("name of Loket 2", {"name": "Loket 2"}, 409),
        ("name NUL", {"name": "\x00"}, 422),
        ("valid name, other clinic's service", {"name": "Loket 9", "service_ids": ["$other"]}, 422),
        ("valid services, taken name", {"name": "Ruang Gigi", "service_ids": ["$A", "$C"]}, 409),
        ("valid name, service_ids null", {"name": "Loket 9", "service_ids": None}, 422),
    ],
    "users": [
        ("empty object", {}, 422),
        ("missing username", user(omit="username"), 422),
        ("missing password", user(omit="password"), 422),
        ("missing role", user(omit="role"), 422),
        ("username 2 chars", user(username="ab"), 422),
        ("username 65 chars", user(username="u" * 65), 422),
        ("username with a space", user(username="baru staff"), 422),
        ("username NUL", user(username="baru\x00staff"), 422),
        ("username non-ASCII", user(username="p\u00e9tugas"), 422),
        ("username empty", user(username=""), 422),
        ("username a number", user(username=12345), 422),
        ("password 7 chars", user(password="pendek7"), 422),
        ("password 257 chars", user(password="p" * 257), 422),
        ("password NUL", user(password="staff-pass\x00word"), 422),
        ("password a number", user(password=12345678), 422),
        ("role root", user(role="root"), 422),
        ("role ADMIN", user(role="ADMIN"), 422),
        ("role null", user(role=None), 422),
        ("clinic_id 0", user(clinic_id=0), 422),
        ("clinic_id -1", user(clinic_id=-1), 422),
        ("clinic_id 2**31", user(clinic_id=2**31), 422),
        ("clinic_id 2**63", user(clinic_id=2**63), 422),
        ("clinic_id abc", user(clinic_id="abc"), 422),
        ("clinic_id unknown", user(clinic_id=UNKNOWN), 422),
        ("staff without clinic", user(omit="clinic_id"), 422),
        ("admin with a clinic", user(username="baru.admin", role="admin"), 422),
        ("duplicate admin", user(omit="clinic_id", username="admin", role="admin"), 409),
        ("duplicate staff", user(username="klandasan.staff"), 409),
        ("duplicate, padded", user(username=" klandasan.admin ", role="clinic_admin"), 409),
    ],
    "devices": [
        ("empty object", {}, 422),
        ("missing kind", {"name": "Kiosk samping"}, 422),
        ("missing name", {"kind": "kiosk"}, 422),
        ("kind tv", {"name": "Kiosk samping", "kind": "tv"}, 422),
        ("kind KIOSK", {"name": "Kiosk samping", "kind": "KIOSK"}, 422),
        ("kind null", {"name": "Kiosk samping", "kind": None}, 422),
        ("name empty", {"name": "", "kind": "kiosk"}, 422),
        ("name NUL", {"name": "Kiosk\x00", "kind": "kiosk"}, 422),
        ("name 121 chars", {"name": "K" * 121, "kind": "display"}, 422),
        ("name a number", {"name": 5, "kind": "display"}, 422),
    ],
    "tickets": [
        ("empty object", {}, 422),
        ("service_id null", {"service_id": None}, 422),
        ("service_id abc", {"service_id": "abc"}, 422),
        ("service_id 0", {"service_id": 0}, 422),
        ("service_id -1", {"service_id": -1}, 422),
        ("service_id 2**31", {"service_id": 2**31}, 422),
        ("service_id 2**63", {"service_id": 2**63}, 422),
        ("service_id 10**20", {"service_id": 10**20}, 422),
        ("service_id 1.5", {"service_id": 1.5}, 422),
        ("service_id a list", {"service_id": ["$A"]}, 422),
        ("priority vip", {"service_id": "$A", "priority": "vip"}, 422),
        ("priority ELDERLY", {"service_id": "$A", "priority": "ELDERLY"}, 422),
        ("priority null", {"service_id": "$A", "priority": None}, 422),
        ("priority a number", {"service_id": "$A", "priority": 1}, 422),
        ("priority NUL", {"service_id": "$A", "priority": "none\x00"}, 422),
        ("service of another clinic", {"service_id": "$other"}, 422),
        ("transfer-only service B", {"service_id": "$B"}, 409),
        ("transfer-only service D", {"service_id": "$D", "priority": "elderly"}, 409),
        ("unknown service", {"service_id": UNKNOWN}, 404),
    ],
}


def endpoint(world: World, target: str) -> tuple[str, str, Headers]:
    cid = world.clinic_id
    routes = {
        "clinics": ("POST", "/clinics"),
        "clinic": ("PATCH", f"/clinics/{cid}"),
        "services": ("POST", f"/clinics/{cid}/services"),
        "service": ("PATCH", f"/services/{world.services['A']['id']}"),
        "counters": ("POST", f"/clinics/{cid}/counters"),
        "counter": ("PATCH", f"/counters/{world.counters['Loket 1']['id']}"),
        "users": ("POST", "/users"),
        "devices": ("POST", f"/clinics/{cid}/devices"),
        "tickets": ("POST", f"/clinics/{cid}/tickets"),
    }
    method, path = routes[target]
    return method, path, world.kiosk if target == "tickets" else world.admin


def resolve(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return refs[value[1:]]
    if isinstance(value, list):
        return [resolve(item, refs) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, refs) for key, item in value.items()}
    return value


def references(world: World, cases: list[Case]) -> dict[str, Any]:
    refs: dict[str, Any] = {p: s["id"] for p, s in world.services.items()}
    refs["clinic"] = world.clinic_id
    if any('"$other' in json.dumps(body) for _, body, _ in cases if not isinstance(body, Raw)):
        other = other_clinic(world)
        refs["other"] = other.services["A"]["id"]
        refs["other_code"] = other.clinic["code"]
    return refs


@pytest.mark.parametrize("target", list(BODY_CASES))
def test_bad_bodies_are_refused_and_change_nothing(
    world: World, api: TestClient, target: str
) -> None:
    world.take("A")
    cases = BODY_CASES[target] + NON_OBJECT_BODIES
    refs = references(world, cases)
    method, path, headers = endpoint(world, target)
    refusals = Refusals(world, api)
    for label, body, status in cases:
        refusals.expect(status, method, path, resolve(body, refs), headers=headers, label=label)
    refusals.check()


# JSON that Python's parser takes but that is no valid input: a lone UTF-16 surrogate (it cannot
# be encoded to UTF-8, for the database or for an error message) and non-finite numbers.
SURROGATE_CASES: list[tuple[str, Json]] = [
    ("clinics", {"code": "BARU\ud800", "name": "Puskesmas Baru"}),
    ("clinics", {"code": "BARU", "name": "Puskesmas Baru", "address": "Jl. \udfff"}),
    ("clinic", {"name": "Puskesmas \ud83c"}),
    ("services", {"name": "Farmasi\ud800", "prefix": "F"}),
    ("service", {"name": "\udc00"}),
    ("counters", {"name": "Loket \ud800", "service_ids": ["$A"]}),
    ("counter", {"name": "Loket \ud800"}),
    ("users", user(password="pass\ud800word")),
    ("devices", {"name": "Kiosk \ud800", "kind": "kiosk"}),
    ("tickets", {"service_id": "$A", "priority": "\ud800"}),
]
NON_FINITE_CASES: list[tuple[str, Json]] = [
    ("services", service(daily_quota=float("nan"))),
    ("services", service(target_wait_minutes=float("inf"))),
    ("service", {"priority_lead_minutes": float("-inf")}),
    ("counters", counter(service_ids=[float("nan")])),
    ("users", user(clinic_id=float("inf"))),
    ("tickets", {"service_id": float("nan")}),
    ("clinics", clinic(allow_remote_tickets=float("nan"))),
]


def refuse_all(world: World, api: TestClient, cases: list[tuple[str, Json]]) -> None:
    refs = references(world, [])
    refusals = Refusals(world, api)
    for target, body in cases:
        method, path, headers = endpoint(world, target)
        refusals.expect(422, method, path, resolve(body, refs), headers=headers, label=target)
    refusals.check()


def test_lone_surrogates_in_strings_are_422_not_500(world: World, api: TestClient) -> None:
    refuse_all(world, api, SURROGATE_CASES)


def test_nan_and_infinity_are_422_not_500(world: World, api: TestClient) -> None:
    refuse_all(world, api, NON_FINITE_CASES)


def test_numbers_with_5000_digits_are_refused(world: World, api: TestClient) -> None:
    refusals = Refusals(world, api)
    huge = b"9" * 5000
    for target, template in [
        ("services", b'{"name": "Farmasi", "prefix": "F", "daily_quota": %s}'),
        ("tickets", b'{"service_id": %s}'),
    ]:
        method, path, headers = endpoint(world, target)
        refusals.expect(400, method, path, Raw(template % huge), headers=headers, label=target)
    refusals.check()


# --- tickets: quota, closed and transfer-only services, other clinics, transfers -------------


def test_quota_full_is_409_and_numbering_goes_on_when_raised(world: World, api: TestClient) -> None:
    taken = [world.take("C")["code"] for _ in range(3)]
    assert taken == ["C-001", "C-002", "C-003"]
    refusals = Refusals(world, api)
    body = {"service_id": world.services["C"]["id"]}
    path = f"/clinics/{world.clinic_id}/tickets"
    refusals.expect(409, "POST", path, body, headers=world.kiosk)
    refusals.expect(409, "POST", path, {**body, "priority": "elderly"}, headers=world.staff)
    refusals.check()
    assert world.waiting_codes("C") == taken

    raised = api.patch(
        f"{API}/services/{world.services['C']['id']}", headers=world.admin, json={"daily_quota": 4}
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["daily_quota"] == 4
    assert world.take("C")["code"] == "C-004"
    refusals.forget()
    refusals.expect(409, "POST", path, body, headers=world.kiosk)
    refusals.check()
    assert world.waiting_codes("C") == [*taken, "C-004"]


def test_closed_service_refuses_tickets_and_transfers(world: World, api: TestClient) -> None:
    first = world.take("A")
    for prefix in ("A", "B"):
        closed = api.patch(
            f"{API}/services/{world.services[prefix]['id']}",
            headers=world.admin,
            json={"is_open": False},
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["is_open"] is False
    refusals = Refusals(world, api)
    path = f"/clinics/{world.clinic_id}/tickets"
    refusals.expect(
        409, "POST", path, {"service_id": world.services["A"]["id"]}, headers=world.kiosk
    )
    refusals.expect(409, "POST", path, {"service_id": world.services["A"]["id"]}, headers={})
    # A closed service still calls the patients it has; they cannot be sent to a closed one.
    assert world.call("Loket 1").json()["code"] == "A-001"
    refusals.forget()
    before = world.ticket(first)
    transfer = {"service_id": world.services["B"]["id"]}
    refusals.expect(409, "POST", f"/tickets/{first['id']}/transfer", transfer, headers=world.staff)
    refusals.check()
    assert world.ticket(first) == before

    reopened = api.patch(
        f"{API}/services/{world.services['A']['id']}", headers=world.admin, json={"is_open": True}
    )
    assert reopened.status_code == 200, reopened.text
    assert world.take("A")["code"] == "A-002"


def test_ticket_for_another_clinics_service_is_422(world: World, api: TestClient) -> None:
    other = other_clinic(world)
    refusals = Refusals(world, api)
    for headers in (world.kiosk, world.staff, world.admin, {}):
        refusals.expect(
            422,
            "POST",
            f"/clinics/{world.clinic_id}/tickets",
            {"service_id": other.services["A"]["id"]},
            headers=headers,
        )
    refusals.check()
    assert world.take("A")["code"] == "A-001"
    assert other.take("A")["code"] == "A-001"


def test_bad_transfers_are_refused_and_leave_the_ticket(world: World, api: TestClient) -> None:
    other = other_clinic(world)
    ticket = world.take("A")
    assert world.call("Loket 1").json()["id"] == ticket["id"]
    closed = api.patch(
        f"{API}/services/{world.services['D']['id']}", headers=world.admin, json={"is_open": False}
    )
    assert closed.status_code == 200, closed.text
    before = world.ticket(ticket)
    refusals = Refusals(world, api)
    path = f"/tickets/{ticket['id']}/transfer"
    cases: list[Case] = [
        ("same service", {"service_id": world.services["A"]["id"]}, 409),
        ("closed service", {"service_id": world.services["D"]["id"]}, 409),
        ("another clinic's service", {"service_id": other.services["B"]["id"]}, 422),
        ("unknown service", {"service_id": UNKNOWN}, 404),
        ("largest id, unknown", {"service_id": 2**31 - 1}, 404),
        ("no body", None, 422),
        ("empty object", {}, 422),
        ("service_id null", {"service_id": None}, 422),
        ("service_id 0", {"service_id": 0}, 422),
        ("service_id 2**31", {"service_id": 2**31}, 422),
        ("service_id 2**63", {"service_id": 2**63}, 422),
        ("service_id abc", {"service_id": "abc"}, 422),
        *NON_OBJECT_BODIES,
    ]
    for label, body, status in cases:
        refusals.expect(status, "POST", path, body, headers=world.staff, label=label)
    refusals.check()
    assert world.ticket(ticket) == before
    assert world.waiting_codes("B") == []


# --- Idempotency-Key --------------------------------------------------------------------------


def test_idempotency_key_replay_gives_the_same_ticket(world: World, api: TestClient) -> None:
    headers = {**world.kiosk, "Idempotency-Key": "6f1c2a7e-kiosk-retry-0001"}
    body = {"service_id": world.services["A"]["id"], "priority": "pregnant"}
    first = take_raw(world, api, body, headers)
    assert first.status_code == 201, first.text
    after_first = state(api, world.admin)
    again = take_raw(world, api, body, headers)
    assert again.status_code == 201, again.text
    for name in ("id", "code", "token", "number", "priority", "issued_at"):
        assert again.json()[name] == first.json()[name], name
    assert world.waiting_codes("A") == ["A-001"]
    assert state(api, world.admin) == after_first
    assert world.take("A")["code"] == "A-002"


def test_idempotency_key_with_another_body_is_409(world: World, api: TestClient) -> None:
    headers = {**world.kiosk, "Idempotency-Key": "9b3e5d10-same-key-other-body"}
    first = take_raw(world, api, {"service_id": world.services["A"]["id"]}, headers)
    assert first.status_code == 201, first.text
    refusals = Refusals(world, api)
    path = f"/clinics/{world.clinic_id}/tickets"
    for body in (
        {"service_id": world.services["A"]["id"], "priority": "elderly"},
        {"service_id": world.services["C"]["id"]},
        {"service_id": world.services["C"]["id"], "priority": "none"},
    ):
        refusals.expect(409, "POST", path, body, headers=headers)
    refusals.check()
    assert world.waiting_codes("A") == ["A-001"]
    assert world.take("C")["code"] == "C-001"


# Each key but the short ones is long enough (16+), so its characters are what is refused.
@pytest.mark.parametrize(
    "key",
    [
        "k" * 201,
        "k" * 15,
        "",
        "two words in one key",
        " leading-space-0001",
        "tab\there-in-the-key-0001",
        "nul\x00here-in-the-key-0001",
        "del\x7f-in-the-key-00000001",
        "bell\x07-in-the-key-0000001",
    ],
    ids=["201-chars", "15-chars", "empty", "space", "leading-space", "tab", "NUL", "DEL", "BEL"],
)
def test_malformed_idempotency_keys_are_422(world: World, api: TestClient, key: str) -> None:
    refusals = Refusals(world, api)
    refusals.expect(
        422,
        "POST",
        f"/clinics/{world.clinic_id}/tickets",
        {"service_id": world.services["A"]["id"]},
        headers={**world.kiosk, "Idempotency-Key": key},
    )
    refusals.check()
    for n, shortest_and_longest in enumerate(["k" * 16, "k" * 200], start=1):
        taken = take_raw(
            world,
            api,
            {"service_id": world.services["A"]["id"]},
            {**world.kiosk, "Idempotency-Key": shortest_and_longest},
        )
        assert taken.status_code == 201, taken.text
        assert taken.json()["code"] == f"A-00{n}"


# --- the state machine ------------------------------------------------------------------------


def ticket_in(world: World, status: str) -> Json:
    ticket = world.take("A")
    steps = {
        "waiting": [],
        "cancelled": ["cancel"],
        "called": ["call"],
        "serving": ["call", "start"],
        "done": ["call", "complete"],
        "no_show": ["call", "no-show"],
    }[status]
    for step in steps:
        response = world.call("Loket 1") if step == "call" else world.act(ticket, step)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == ticket["id"]
    assert world.ticket(ticket)["status"] == status
    return ticket


@pytest.mark.parametrize("status", ["waiting", "called", "serving", "done", "cancelled", "no_show"])
def test_illegal_transitions_are_409_and_change_nothing(
    world: World, api: TestClient, status: str
) -> None:
    ticket = ticket_in(world, status)
    before = world.ticket(ticket)
    refusals = Refusals(world, api)
    illegal = [action for action in STAFF_ACTIONS if status not in ALLOWED_FROM[action]]
    assert illegal
    for action in illegal:
        body = {"service_id": world.services["B"]["id"]} if action == "transfer" else None
        path = f"/tickets/{ticket['id']}/{action}"
        refusals.expect(409, "POST", path, body, headers=world.staff, label=f"{action} {status}")
        if action == "cancel":  # the patient, with the ticket's own token
            refusals.expect(
                409, "POST", path, headers={"X-Ticket-Token": ticket["token"]}, label="patient"
            )
    refusals.check()
    assert world.ticket(ticket) == before


def test_actions_on_yesterdays_ticket_are_409(
    world: World, api: TestClient, clock: FakeClock
) -> None:
    waiting = world.take("A")
    called = world.take("C")
    assert world.call("Ruang Gigi").json()["id"] == called["id"]
    clock.advance(days=1)
    refusals = Refusals(world, api)
    for ticket in (waiting, called):
        before = world.ticket(ticket)
        for action in STAFF_ACTIONS:
            body = {"service_id": world.services["B"]["id"]} if action == "transfer" else None
            path = f"/tickets/{ticket['id']}/{action}"
            refusals.expect(409, "POST", path, body, headers=world.staff, label=action)
        assert world.ticket(ticket) == before
    refusals.check()


# --- credentials that are malformed rather than wrong ---------------------------------------


def test_login_with_nul_in_the_form_is_refused_not_500(world: World, api: TestClient) -> None:
    before = state(api, world.admin)
    statuses = {
        username: api.post(
            f"{API}/auth/token", data={"username": username, "password": password}
        ).status_code
        for username, password in [("admin\x00", "admin-password"), ("\x00", "\x00" * 8)]
    }
    # No such account (401) or an invalid form (422): either is a refusal; a 500 is not.
    assert all(status in (401, 422) for status in statuses.values()), statuses
    assert state(api, world.admin) == before


def asgi_status(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """Call the app as a server would, with header bytes no HTTP client library rewrites."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send_message(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def run() -> None:
        try:
            await app(scope, receive, send_message)
        except Exception:  # what the server turns into a 500
            sent.append({"type": "http.response.start", "status": 500})

    asyncio.run(run())
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


@pytest.mark.parametrize(
    "key",
    [b"dk_2147483648_x", b"dk_9999999999_x", b"dk_0_x", b"dk_\xb2_x", b"dk_\xb9\xb2_x"],
    ids=["2**31", "10-digits", "zero", "superscript-two", "superscripts"],
)
def test_malformed_device_keys_are_401_not_500(world: World, key: bytes) -> None:
    # The world has devices: PostgreSQL only trips over an out-of-range id on a non-empty table.
    headers = [(b"authorization", b"Bearer " + key)]
    assert asgi_status(world.client.app, "GET", f"{API}/users", headers) == 401


# --- fuzz -----------------------------------------------------------------------------------

FUZZ_TEXT = [
    "Puskesmas",
    "Poli Gigi",
    "ÄÖÜ ñ ç",
    "ضياء",
    "日本語",
    "🏥🦷",
    "e\u0301",
    "\u200f\u200b\ufeff",
    "\x00",
    "\x1b[31m",
    "\n\r\t",
    "\x7f",
    "\ud800",
    "\udfff",
    "'; DROP TABLE ticket; --",
    "%s%n{0}",
    "A",
    "",
    " ",
]
FUZZ_FIELDS: dict[str, list[str]] = {
    "clinics": ["code", "name", "timezone", "address", "opening_hours", "allow_remote_tickets"],
    "services": [
        "name",
        "prefix",
        "entry",
        "daily_quota",
        "target_wait_minutes",
        "is_open",
        "priority_lead_minutes",
        "default_service_minutes",
    ],
    "counters": ["name", "service_ids"],
    "tickets": ["service_id", "priority"],
    "users": ["username", "password", "role", "clinic_id"],
}
FUZZ_FIELDS["service"] = FUZZ_FIELDS["services"]


def fuzz_text(rng: random.Random) -> str:
    size = rng.choice([0, 1, 2, 5, 20, 130, 600, 5000])
    text = "".join(rng.choice(FUZZ_TEXT) for _ in range(max(1, size // 8)))
    return text[:size] if rng.random() < 0.5 else text


def fuzz_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["int", "float", "bool", "null", "text", "text", "list", "object"])
    if depth >= 3 and kind in ("list", "object"):
        kind = "text"
    if kind == "int":
        return rng.choice(
            [0, -1, 1, 3, 2**31 - 1, 2**31, 2**63, -(2**63), 10**20, rng.randint(-9999, 9999)]
        )
    if kind == "float":
        return rng.choice([0.5, -1.5, 1.0, 1e308, float("nan"), float("inf"), -0.0])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "text":
        return fuzz_text(rng)
    if kind == "list":
        return [fuzz_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {fuzz_text(rng)[:20]: fuzz_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def plausible(rng: random.Random, name: str, world: World) -> Any:
    """A value of the right shape, often valid, so that fuzzing reaches past validation."""
    service_ids = [s["id"] for s in world.services.values()]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    choices: dict[str, Any] = {
        "code": "".join(rng.choices(letters, k=rng.randint(1, 10))),
        "name": rng.choice(["Loket", "Poli", "Puskesmas"]) + f" {rng.randint(1, 99)}",
        "timezone": rng.choice(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Mars/Olympus"]),
        "prefix": "".join(rng.choices(letters + "abc1", k=rng.randint(0, 3))),
        "service_id": rng.choice([*service_ids, UNKNOWN]),
        "service_ids": rng.sample(service_ids, rng.randint(0, 2)),
        "priority": rng.choice(["none", "elderly", "pregnant", "disabled", "child", "vip"]),
        "role": rng.choice(["staff", "clinic_admin", "admin", "root"]),
        "username": "fuzz." + "".join(rng.choices("abcxyz019", k=rng.randint(0, 8))),
        "password": "p" * rng.choice([3, 8, 300]),
        "clinic_id": rng.choice([world.clinic_id, UNKNOWN, None]),
        "daily_quota": rng.choice([None, 0, 1, 5]),
    }
    if name in choices:
        return choices[name]
    return rng.choice([True, False, 0, 5, 60, None, "x"])


def fuzz_body(rng: random.Random, target: str, world: World) -> Any:
    if rng.random() < 0.15:
        return fuzz_value(rng)
    body = {
        name: plausible(rng, name, world) if rng.random() < 0.5 else fuzz_value(rng)
        for name in FUZZ_FIELDS[target]
        if rng.random() < 0.7
    }
    for _ in range(rng.randint(0, 2)):
        body[fuzz_text(rng)[:30]] = fuzz_value(rng)
    return body


def test_fuzzed_bodies_never_give_500_nor_change_state_when_refused(
    world: World, api: TestClient
) -> None:
    rng = random.Random(20261123)
    world.take("A")
    targets = list(FUZZ_FIELDS)
    current = state(api, world.admin, [world.clinic_id])
    failures: list[str] = []
    outcomes: dict[int, int] = {}
    for _ in range(200):
        target = rng.choice(targets)
        body = fuzz_body(rng, target, world)
        method, path, headers = endpoint(world, target)
        response = send(api, method, path, headers, Raw(json.dumps(body).encode()))
        outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
        after = state(api, world.admin, [world.clinic_id])
        where = f"{method} {path} {json.dumps(body)[:150]}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
        elif response.status_code >= 400 and after != current:
            failures.append(f"{where}: refused with {response.status_code} but changed state")
        current = after
    assert not failures, "\n".join(failures)
    assert sum(n for status, n in outcomes.items() if status < 300) > 0, outcomes
    assert sum(n for status, n in outcomes.items() if 400 <= status < 500) > 100, outcomes
