"""Every error carries a stable code, and docs/errors.md lists exactly the codes there are."""

import re
from pathlib import Path

import app.main  # noqa: F401 (every module with an error class is imported by the app)
from app.errors import INVALID_INPUT, STARLETTE_CODES, error_classes
from tests.world import World

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def documented_codes() -> set[str]:
    rows = [line for line in DOC.read_text().splitlines() if re.match(r"\| [0-9]{3}", line)]
    return {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split("|")[2])}


def test_the_error_page_lists_every_code_and_only_those() -> None:
    codes = {cls.code for cls in error_classes()} | set(STARLETTE_CODES.values())
    codes.add(INVALID_INPUT)
    codes.discard("bad_request")  # the base class's, never answered (a 400 is invalid_input)
    assert codes - documented_codes() == set(), "codes missing from docs/errors.md"
    assert documented_codes() - codes == set(), "docs/errors.md lists codes that do not exist"


def test_the_frameworks_own_refusals_carry_codes_too(world: World) -> None:
    client = world.client
    unknown = client.get("/api/v1/nothing-here")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    wrong_method = client.delete("/api/v1/clinics")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")
    not_json = client.post("/api/v1/clinics/1/tickets", content=b'{"service_id": \xff}', headers={})
    assert not_json.status_code in (400, 422)
    assert not_json.json()["code"] == INVALID_INPUT


def test_queue_refusals_carry_their_codes(world: World) -> None:
    ticket = world.take()
    started = world.act(ticket, "start")  # still waiting: it must be called first
    assert (started.status_code, started.json()["code"]) == (409, "illegal_transition")
    assert world.call().json()["id"] == ticket["id"]
    transfer = world.act(ticket, "transfer", service_id=world.services["A"]["id"])
    assert (transfer.status_code, transfer.json()["code"]) == (409, "same_service")
    nobody = world.client.get(f"/api/v1/tickets/{ticket['id']}")
    assert (nobody.status_code, nobody.json()["code"]) == (401, "not_authenticated")
    wrong = world.client.get(
        f"/api/v1/tickets/{ticket['id']}", headers={"X-Ticket-Token": "x" * 43}
    )
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_ticket_token")
    kiosk = world.act(ticket, "cancel", headers=world.kiosk)
    assert (kiosk.status_code, kiosk.json()["code"]) == (403, "device_not_allowed")
    for _ in range(3):
        world.take("C")  # Poli Gigi's quota is 3
    full = world.take_response("C")
    assert (full.status_code, full.json()["code"]) == (409, "quota_full")
