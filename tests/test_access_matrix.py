"""Who may call what: every route of the app against a table, for every kind of caller.

The table names one rule per route; the rule says, for each identity, whether the request
passes (any answer but 401/403 and never a 5xx) or is refused with an exact status. The
routes come from the app itself, so a route added without a row here fails. A refused
request must change nothing in the database.
"""

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select
from sqlmodel import Session
from starlette.websockets import WebSocketDisconnect

from app.models import BpjsOutbox, OutboxKind, OutboxState
from tests.world import STAFF_PASSWORD, Headers, Json, World, login

PASSES = "passes"  # 2xx, or 409 where the ticket's state or a name already taken refuses it
IDENTITIES = (
    "anonymous",
    "patient",  # the token of the ticket the request names
    "other_patient",  # the token of another ticket
    "kiosk",
    "display",
    "other_staff",  # staff of another clinic
    "other_clinic_admin",  # clinic_admin of another clinic
    "staff",
    "clinic_admin",
    "admin",
)


def _rule(default: str | int, **overrides: str | int) -> dict[str, str | int]:
    return {identity: overrides.get(identity, default) for identity in IDENTITIES}


NO_BEARER = {"anonymous": 401, "patient": 401, "other_patient": 401}
DEVICES = {"kiosk": 403, "display": 403}

RULES: dict[str, dict[str, str | int]] = {
    "anyone": _rule(PASSES),
    "signed_in_or_device": _rule(PASSES, **NO_BEARER),
    "admin": _rule(403, **NO_BEARER, admin=PASSES),
    "manager": _rule(
        403, **NO_BEARER, other_clinic_admin=PASSES, clinic_admin=PASSES, admin=PASSES
    ),
    # An admin, or a clinic_admin of the clinic the path (or the body) names.
    "clinic_admin_of": _rule(403, **NO_BEARER, clinic_admin=PASSES, admin=PASSES),
    "staff_of": _rule(403, **NO_BEARER, staff=PASSES, clinic_admin=PASSES, admin=PASSES),
    "holder_or_staff": _rule(
        403,
        anonymous=401,
        patient=PASSES,
        other_patient=401,
        staff=PASSES,
        clinic_admin=PASSES,
        admin=PASSES,
    ),
    "ticket_taker": _rule(PASSES, display=403, other_staff=403, other_clinic_admin=403),
    # Pages: a ticket's pages open only with its token; anyone else sees "not found".
    "holder_page": _rule(404, patient=PASSES),
    # WebSocket feeds: "passes" is a first message; anything else is closed with this code.
    "feed_anyone": _rule(PASSES),
    "feed_holder": _rule(1008, patient=PASSES),
    # BPJS's Mobile JKN calls: their own token in their own headers; every other caller gets
    # HTTP 200 with BPJS's refusal envelope (tests/test_bpjs_inbound.py checks the token).
    "bpjs_protocol": _rule(PASSES),
}

# Every route of the app, by method and path, with its rule.
TABLE: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/token"): "anyone",
    ("GET", "/api/v1/auth/me"): "signed_in_or_device",
    ("GET", "/api/v1/clinics"): "anyone",
    ("POST", "/api/v1/clinics"): "admin",
    ("GET", "/api/v1/clinics/{clinic_id}"): "anyone",
    ("PATCH", "/api/v1/clinics/{clinic_id}"): "clinic_admin_of",
    ("GET", "/api/v1/clinics/{clinic_id}/bpjs"): "clinic_admin_of",
    ("PUT", "/api/v1/clinics/{clinic_id}/bpjs"): "clinic_admin_of",
    # Asked of BPJS live: the world's clinic has no credentials, so 409 before any call.
    ("GET", "/api/v1/clinics/{clinic_id}/bpjs/poli"): "clinic_admin_of",
    ("GET", "/api/v1/clinics/{clinic_id}/bpjs/dokter"): "clinic_admin_of",
    ("GET", "/api/v1/clinics/{clinic_id}/services"): "anyone",
    ("POST", "/api/v1/clinics/{clinic_id}/services"): "clinic_admin_of",
    ("PATCH", "/api/v1/services/{service_id}"): "clinic_admin_of",
    ("GET", "/api/v1/clinics/{clinic_id}/counters"): "anyone",
    ("POST", "/api/v1/clinics/{clinic_id}/counters"): "clinic_admin_of",
    ("GET", "/api/v1/counters/{counter_id}"): "anyone",
    ("PATCH", "/api/v1/counters/{counter_id}"): "clinic_admin_of",
    ("POST", "/api/v1/clinics/{clinic_id}/devices"): "clinic_admin_of",
    ("GET", "/api/v1/clinics/{clinic_id}/devices"): "clinic_admin_of",
    ("POST", "/api/v1/devices/{device_id}/revoke"): "clinic_admin_of",
    ("POST", "/api/v1/users"): "clinic_admin_of",  # the body's clinic
    ("GET", "/api/v1/users"): "manager",  # a clinic_admin sees their own clinic's
    ("PATCH", "/api/v1/users/{user_id}"): "clinic_admin_of",
    ("GET", "/api/v1/clinics/{clinic_id}/queue"): "anyone",
    ("POST", "/api/v1/clinics/{clinic_id}/tickets"): "ticket_taker",
    ("GET", "/api/v1/tickets/{ticket_id}"): "holder_or_staff",
    ("POST", "/api/v1/tickets/{ticket_id}/cancel"): "holder_or_staff",
    ("POST", "/api/v1/tickets/{ticket_id}/recall"): "staff_of",
    ("POST", "/api/v1/tickets/{ticket_id}/start"): "staff_of",
    ("POST", "/api/v1/tickets/{ticket_id}/complete"): "staff_of",
    ("POST", "/api/v1/tickets/{ticket_id}/no-show"): "staff_of",
    ("POST", "/api/v1/tickets/{ticket_id}/requeue"): "staff_of",
    ("POST", "/api/v1/tickets/{ticket_id}/transfer"): "staff_of",
    ("POST", "/api/v1/counters/{counter_id}/call-next"): "staff_of",
    ("GET", "/api/v1/reports/wait-times"): "manager",
    ("GET", "/api/v1/reports/ticket-log"): "manager",
    ("GET", "/api/v1/clinics/{clinic_id}/bpjs/outbox"): "clinic_admin_of",
    ("POST", "/api/v1/bpjs/outbox/{outbox_id}/retry"): "clinic_admin_of",  # the row's clinic
    ("GET", "/metrics"): "anyone",
    ("GET", "/healthz"): "anyone",
    ("GET", "/"): "anyone",
    ("GET", "/kiosk/{clinic_id}"): "anyone",
    ("GET", "/display/{clinic_id}"): "anyone",
    ("GET", "/take/{clinic_id}"): "anyone",
    ("GET", "/t/{ticket_id}"): "holder_page",
    ("GET", "/t/{ticket_id}/print"): "holder_page",
    ("GET", "/staff"): "anyone",
    ("GET", "/admin"): "anyone",
    ("GET", "/office"): "anyone",
    ("WS", "/ws/clinics/{clinic_id}"): "feed_anyone",
    ("WS", "/ws/tickets/{ticket_id}"): "feed_holder",
    ("GET", "/bpjs/fktp/{clinic_code}/auth"): "bpjs_protocol",
    ("GET", "/bpjs/fktp/{clinic_code}/antrean/status/{kodepoli}/{tanggalperiksa}"): "bpjs_protocol",
    ("POST", "/bpjs/fktp/{clinic_code}/antrean"): "bpjs_protocol",
    (
        "GET",
        "/bpjs/fktp/{clinic_code}/antrean/sisapeserta/{nomorkartu}/{kodepoli}/{tanggalperiksa}",
    ): "bpjs_protocol",
    ("PUT", "/bpjs/fktp/{clinic_code}/antrean/batal"): "bpjs_protocol",
    ("POST", "/bpjs/fktp/{clinic_code}/peserta"): "bpjs_protocol",
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every API, page and WebSocket route, through included routers."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes, prefix + route.include_context.prefix)
            elif isinstance(route, APIRoute):
                for method in sorted(route.methods or ()):
                    yield method, prefix + route.path
            elif isinstance(route, APIWebSocketRoute):
                yield "WS", prefix + route.path

    yield from walk(list(app.routes), "")


def test_every_route_has_a_row_and_every_row_a_route(app: FastAPI) -> None:
    routes = set(app_routes(app))
    assert routes - set(TABLE) == set(), "routes without a row in the access table"
    assert set(TABLE) - routes == set(), "rows for routes that no longer exist"


# --- the world the requests act in ---------------------------------------------------------


@dataclass
class Setting:
    world: World
    other: World
    ticket: Json
    other_ticket: Json
    victim_device_id: int
    victim_user_id: int
    names: Iterator[int]
    outbox_id: int = 0  # a failed BPJS outbox row of the world's clinic

    def headers(self, identity: str) -> Headers:
        world, other = self.world, self.other
        return {
            "anonymous": {},
            "patient": {"X-Ticket-Token": self.ticket["token"]},
            "other_patient": {"X-Ticket-Token": self.other_ticket["token"]},
            "kiosk": world.kiosk,
            "display": world.display,
            "other_staff": other.staff,
            "other_clinic_admin": other.clinic_admin,
            "staff": world.staff,
            "clinic_admin": world.clinic_admin,
            "admin": world.admin,
        }[identity]

    def path(self, template: str) -> str:
        world = self.world
        return template.format(
            clinic_id=world.clinic_id,
            clinic_code=world.clinic["code"],
            kodepoli="001",
            tanggalperiksa="2026-11-23",
            nomorkartu="0001234567890",
            service_id=world.services["A"]["id"],
            counter_id=world.counters["Loket 1"]["id"],
            ticket_id=self.ticket["id"],
            device_id=self.victim_device_id,
            user_id=self.victim_user_id,
            outbox_id=self.outbox_id,
        )

    def request(self, method: str, template: str) -> dict[str, Any]:
        """A valid request for the route (every identity sends the same)."""
        n = next(self.names)
        world = self.world
        bodies: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
            ("POST", "/api/v1/auth/token"): lambda: {
                "data": {"username": "klandasan.login", "password": STAFF_PASSWORD}
            },
            ("POST", "/api/v1/clinics"): lambda: {
                "json": {"code": f"NEW{n}", "name": f"Puskesmas {n}", "timezone": "Asia/Jakarta"}
            },
            ("PATCH", "/api/v1/clinics/{clinic_id}"): lambda: {"json": {"address": f"Jalan {n}"}},
            ("PUT", "/api/v1/clinics/{clinic_id}/bpjs"): lambda: {"json": {"enabled": n % 2 == 0}},
            ("GET", "/api/v1/clinics/{clinic_id}/bpjs/dokter"): lambda: {
                "params": {"kodepoli": "001"}
            },
            ("POST", "/api/v1/clinics/{clinic_id}/services"): lambda: {
                "json": {
                    "name": f"Layanan {n}",
                    "prefix": "QRSTUVWXYZ"[n % 10] + "ABCDEFGHIJ"[n // 10 % 10],
                }
            },
            ("PATCH", "/api/v1/services/{service_id}"): lambda: {
                "json": {"target_wait_minutes": 10 + n % 50}
            },
            ("POST", "/api/v1/clinics/{clinic_id}/counters"): lambda: {
                "json": {"name": f"Loket {n + 100}", "service_ids": [world.services["A"]["id"]]}
            },
            ("PATCH", "/api/v1/counters/{counter_id}"): lambda: {
                "json": {"service_ids": [world.services["A"]["id"]]}
            },
            ("POST", "/api/v1/clinics/{clinic_id}/devices"): lambda: {
                "json": {"name": f"Kios {n}", "kind": "display"}
            },
            ("POST", "/api/v1/users"): lambda: {
                "json": {
                    "username": f"klandasan.baru{n}",
                    "password": STAFF_PASSWORD,
                    "role": "staff",
                    "clinic_id": world.clinic_id,
                }
            },
            ("PATCH", "/api/v1/users/{user_id}"): lambda: {"json": {"is_active": True}},
            ("POST", "/api/v1/clinics/{clinic_id}/tickets"): lambda: {
                "json": {"service_id": world.services["A"]["id"]}
            },
            ("POST", "/api/v1/tickets/{ticket_id}/transfer"): lambda: {
                "json": {"service_id": world.services["B"]["id"]}
            },
            ("GET", "/api/v1/reports/wait-times"): lambda: {
                "params": {"date_from": "2026-01-01", "date_to": "2026-01-31"}
            },
            ("GET", "/api/v1/reports/ticket-log"): lambda: {
                "params": {"date_from": "2026-01-01", "date_to": "2026-01-31"}
            },
        }
        return bodies.get((method, template), dict)()


def _setting(client: TestClient) -> Setting:
    world = World.build(client)
    other = World.build(client, code="SEPINGGAN")
    ticket = world.take()
    other_ticket = world.take()
    device = client.post(
        f"/api/v1/clinics/{world.clinic_id}/devices",
        headers=world.admin,
        json={"name": "Kios cadangan", "kind": "kiosk"},
    ).json()
    user = client.post(
        "/api/v1/users",
        headers=world.admin,
        json={
            "username": "klandasan.login",
            "password": STAFF_PASSWORD,
            "role": "staff",
            "clinic_id": world.clinic_id,
        },
    ).json()
    login(client, "klandasan.login", STAFF_PASSWORD)
    outbox_id = failed_outbox_row(client, world.clinic_id, ticket)
    return Setting(
        world, other, ticket, other_ticket, device["id"], user["id"], itertools.count(), outbox_id
    )


def failed_outbox_row(client: TestClient, clinic_id: int, ticket: Json) -> int:
    """A BPJS call BPJS refused, for the outbox's routes (retried, it is refused again: 409)."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with Session(engine) as session:
        row = BpjsOutbox(
            clinic_id=clinic_id,
            ticket_id=ticket["id"],
            ticket_code=ticket["code"],
            kind=OutboxKind.batal,
            payload={"nomorkartu": "0001234567890", "kodepoli": "001", "tanggalperiksa": "x"},
            state=OutboxState.failed,
            created_at=now,
            next_attempt_at=now,
            last_error="201: Antrean Tidak Ditemukan",
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def database_state(engine: Engine, metadata: MetaData) -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


def _http(client: TestClient, setting: Setting, method: str, template: str, identity: str) -> int:
    headers = setting.headers(identity)
    extra = setting.request(method, template)
    if template.startswith("/t/") and identity in ("patient", "other_patient"):
        headers = {}  # a ticket's pages take its token in the address, as its QR code has it
        extra = {"params": {"token": headers_token(setting, identity)}}
    response = client.request(method, setting.path(template), headers=headers, **extra)
    return response.status_code


def headers_token(setting: Setting, identity: str) -> str:
    token: str = setting.headers(identity)["X-Ticket-Token"]
    return token


def _feed(client: TestClient, setting: Setting, template: str, identity: str) -> str | int:
    path = setting.path(template)
    if identity in ("patient", "other_patient"):
        path = f"{path}?token={headers_token(setting, identity)}"
    try:
        with client.websocket_connect(path, headers=setting.headers(identity)) as socket:
            socket.receive_json()
            return PASSES
    except WebSocketDisconnect as closed:
        return closed.code


def test_each_identity_is_let_in_or_refused_as_the_table_says(
    client: TestClient, engine: Engine
) -> None:
    setting = _setting(client)
    metadata = MetaData()
    metadata.reflect(engine)
    wrong: list[str] = []
    # Refusals first, while nothing the allowed requests do has moved the world.
    cases = sorted(
        (
            (RULES[rule][identity], method, path, identity)
            for (method, path), rule in TABLE.items()
            for identity in IDENTITIES
        ),
        key=lambda case: case[0] == PASSES,
    )
    for expected, method, template, identity in cases:
        before = database_state(engine, metadata) if expected != PASSES else ""
        if method == "WS":
            got: str | int = _feed(client, setting, template, identity)
        else:
            status = _http(client, setting, method, template, identity)
            passed = 200 <= status < 300 or status == 409
            got = PASSES if expected == PASSES and passed else status
        if got != expected:
            wrong.append(f"{method} {template} as {identity}: expected {expected}, got {got}")
        elif expected != PASSES and database_state(engine, metadata) != before:
            wrong.append(f"{method} {template} as {identity}: refused but changed the database")
    assert wrong == [], "\n".join(wrong)
