"""A clinic morning through the API: kiosk and phone tickets, call, recall, transfer, done."""

from tests.clock import FakeClock
from tests.world import World


def test_a_clinic_morning(world: World, clock: FakeClock) -> None:
    first = world.take("A")
    assert first["code"] == "A-001"
    assert first["status"] == "waiting"
    assert first["channel"] == "kiosk"
    assert first["position"] == 0
    assert len(first["token"]) >= 32
    second = world.take("A", headers={})
    assert second["code"] == "A-002"
    assert second["channel"] == "phone"
    assert second["position"] == 1

    clock.advance(minutes=3)
    called = world.call("Loket 1")
    assert called.status_code == 200
    assert called.json()["code"] == "A-001"
    assert called.json()["status"] == "called"
    assert called.json()["counter_id"] == world.counters["Loket 1"]["id"]

    assert world.act(first, "recall").json()["recall_count"] == 1
    assert world.act(first, "start").json()["status"] == "serving"
    clock.advance(minutes=4)
    moved = world.act(first, "transfer", service_id=world.services["B"]["id"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["code"] == "A-001"
    assert moved.json()["service_id"] == world.services["B"]["id"]
    assert moved.json()["status"] == "waiting"
    assert moved.json()["leg"] == 2

    at_poli = world.call("Ruang Umum")
    assert at_poli.json()["code"] == "A-001"
    assert world.act(first, "complete").json()["status"] == "done"

    assert world.call("Loket 2").json()["code"] == "A-002"
    assert world.act(second, "no-show").json()["status"] == "no_show"
    assert world.act(second, "requeue").json()["status"] == "waiting"
    third = world.take("A")
    cancelled = world.client.post(
        f"/api/v1/tickets/{third['id']}/cancel", params={"token": third["token"]}
    )
    assert cancelled.json()["status"] == "cancelled"
    assert world.waiting_codes("A") == ["A-002"]
