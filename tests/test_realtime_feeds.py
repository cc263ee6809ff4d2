"""The display and ticket feeds through the app, on both databases."""

import json
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.main import create_app
from app.realtime.sweep import sweep_once
from tests.clock import FakeClock
from tests.world import Json, World

Socket = Any  # starlette's WebSocketTestSession


def next_change(ws: Socket) -> Json:
    """The next message that is not a keep-alive ping."""
    while True:
        message: Json = ws.receive_json()
        if message["type"] != "ping":
            return message


def test_display_gets_a_snapshot_then_every_change_with_seq_rising_by_one(world: World) -> None:
    early = world.take("A")
    world.call("Loket 1")
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        snapshot = next_change(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == 2
        loket = next(c for c in snapshot["counters"] if c["name"] == "Loket 1")
        assert loket["ticket"]["code"] == early["code"]
        assert snapshot["last_calls"][0]["code"] == "A-001"
        assert snapshot["last_calls"][0]["counter_name"] == "Loket 1"
        waiting = {s["prefix"]: s["waiting"] for s in snapshot["services"]}
        assert waiting["A"] == 0

        second = world.take("A")
        issued = next_change(ws)
        assert issued["type"] == "ticket.issued"
        assert issued["seq"] == 3
        assert issued["ticket"]["code"] == "A-002"
        assert issued["waiting"] == {str(world.services["A"]["id"]): 1}

        world.call("Loket 2")
        called = next_change(ws)
        assert (called["type"], called["seq"]) == ("ticket.called", 4)
        assert called["counter"] == {"id": world.counters["Loket 2"]["id"], "name": "Loket 2"}
        assert called["ticket"]["code"] == "A-002"

        world.act(second, "recall")
        world.act(second, "transfer", service_id=world.services["B"]["id"])
        recalled, moved = next_change(ws), next_change(ws)
        assert (recalled["type"], recalled["seq"]) == ("ticket.recalled", 5)
        assert (moved["type"], moved["seq"]) == ("ticket.transferred", 6)
        assert moved["from_service_id"] == world.services["A"]["id"]
        assert moved["to_service_id"] == world.services["B"]["id"]
        assert moved["ticket"]["code"] == "A-002"


def test_the_display_feed_carries_no_tokens_or_personal_data(world: World) -> None:
    ticket = world.take("A")
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        texts = [json.dumps(next_change(ws))]
        world.call("Loket 1")
        texts.append(json.dumps(next_change(ws)))
    for text in texts:
        assert ticket["token"] not in text
        assert "token" not in text
        assert "channel" not in text


def test_a_display_that_reconnects_gets_what_it_missed(world: World) -> None:
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        last_seen = next_change(ws)["seq"]
    world.take("A")
    world.call("Loket 1")
    url = f"/ws/clinics/{world.clinic_id}?since={last_seen}"
    with world.client.websocket_connect(url) as ws:
        missed = [next_change(ws), next_change(ws)]
        assert [m["type"] for m in missed] == ["ticket.issued", "ticket.called"]
        assert [m["seq"] for m in missed] == [last_seen + 1, last_seen + 2]


def test_a_display_too_far_behind_gets_a_fresh_snapshot(world: World, client: TestClient) -> None:
    client.app.state.settings.replay_limit = 2  # type: ignore[attr-defined]
    for _ in range(3):
        world.take("A")
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}?since=0") as ws:
        fresh = next_change(ws)
        assert fresh["type"] == "snapshot"
        assert fresh["seq"] == 3


def test_an_unknown_clinic_closes_the_feed(world: World) -> None:
    with (
        world.client.websocket_connect("/ws/clinics/999999") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4404


def test_the_patients_feed_follows_position_and_status(world: World) -> None:
    first, mine = world.take("A"), world.take("A")
    url = f"/ws/tickets/{mine['id']}?token={mine['token']}"
    with world.client.websocket_connect(url) as ws:
        start = next_change(ws)
        assert start["type"] == "ticket"
        assert start["ticket"]["position"] == 1
        assert "token" not in start["ticket"]
        world.call("Loket 1")  # the one ahead is called
        assert next_change(ws)["ticket"]["position"] == 0
        world.act(first, "start")  # a change that moves nothing of mine: no message
        world.call("Loket 2")
        called = next_change(ws)["ticket"]
        assert called["status"] == "called"
        assert called["counter_id"] == world.counters["Loket 2"]["id"]
        assert called["position"] is None


@pytest.mark.parametrize("token", ["", "wrong", "x" * 43])
def test_a_wrong_ticket_token_closes_with_policy_violation_and_no_data(
    world: World, token: str
) -> None:
    ticket = world.take("A")
    with (
        world.client.websocket_connect(f"/ws/tickets/{ticket['id']}?token={token}") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 1008


def test_the_end_of_day_sweep_expires_open_tickets_and_tells_the_display(
    world: World, clock: FakeClock, client: TestClient
) -> None:
    waiting, called = world.take("A"), world.take("A")
    world.call("Loket 1")
    writer = client.app.state.writer  # type: ignore[attr-defined]
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        seq = next_change(ws)["seq"]
        clock.advance(hours=16, seconds=-1)  # 23:59:59 in Balikpapan
        assert sweep_once(writer, clock) == 0  # not yet
        clock.advance(seconds=1)
        assert sweep_once(writer, clock) == 2
        expired = [next_change(ws), next_change(ws)]
    assert {m["type"] for m in expired} == {"ticket.expired"}
    assert [m["seq"] for m in expired] == [seq + 1, seq + 2]
    assert {m["ticket"]["code"] for m in expired} == {waiting["code"], called["code"]}
    assert world.ticket(waiting)["status"] == "expired"
    assert world.ticket(called)["status"] == "expired"
    assert sweep_once(writer, clock) == 0


def test_the_sweep_runs_by_itself_at_local_midnight(
    settings: Settings, engine: Engine, clock: FakeClock
) -> None:
    fast = settings.model_copy(update={"sweep_seconds": 0.05})
    with TestClient(create_app(fast, engine=engine, clock=clock)) as client:
        world = World.build(client)
        ticket = world.take("A")
        with client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
            next_change(ws)
            clock.advance(hours=16)  # midnight in Balikpapan
            expired = next_change(ws)
        assert expired["type"] == "ticket.expired"
        assert expired["ticket"]["code"] == ticket["code"]


@pytest.mark.parametrize(
    "path", ["/ws/tickets/0?token=x", "/ws/tickets/abc", "/ws/tickets/1?token="]
)
def test_a_malformed_ticket_feed_request_also_closes_with_1008(world: World, path: str) -> None:
    world.take("A")
    with world.client.websocket_connect(path) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 1008


def test_a_too_long_token_closes_with_1008(world: World) -> None:
    ticket = world.take("A")
    url = f"/ws/tickets/{ticket['id']}?token={'x' * 500}"
    with world.client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 1008


def test_a_display_with_a_nonsense_since_starts_from_a_snapshot(world: World) -> None:
    for since in ("-1", "abc", str(2**64)):
        with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}?since={since}") as ws:
            assert next_change(ws)["type"] == "snapshot"
    with (
        world.client.websocket_connect("/ws/clinics/abc") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4404


def test_setup_changes_reach_the_feeds(world: World) -> None:
    """A new counter shortens the estimate: the patient is told; displays are told to resync."""
    world.take("A")
    world.take("A")
    mine = world.take("A")
    url = f"/ws/tickets/{mine['id']}?token={mine['token']}"
    with (
        world.client.websocket_connect(url) as phone,
        world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as display,
    ):
        before = next_change(phone)["ticket"]["estimated_wait_minutes"]
        next_change(display)  # the snapshot
        world.add_counter("Loket 3", "A")
        after = next_change(phone)["ticket"]["estimated_wait_minutes"]
        assert after < before
        changed = next_change(display)
        assert changed == {"type": "clinic.changed", "clinic_id": world.clinic_id}


def test_a_phone_hears_a_keep_alive_while_the_clinic_is_busy_with_other_tickets(
    world: World,
) -> None:
    """The hub pings quiet sockets only: a phone whose ticket nothing touches must still hear
    something, or its page takes the silence for a dead connection and reconnects."""
    world.client.app.state.settings.ws_ping_seconds = 0.2  # type: ignore[attr-defined]
    mine = world.take("C")
    with world.client.websocket_connect(f"/ws/tickets/{mine['id']}?token={mine['token']}") as ws:
        assert ws.receive_json()["type"] == "ticket"
        for _ in range(6):  # a busy registration desk: changes that do not concern C
            world.take("A")
            time.sleep(0.1)
        world.call("Ruang Gigi")  # then mine is called
        kinds: list[str] = []
        while not kinds or kinds[-1] != "ticket":
            kinds.append(ws.receive_json()["type"])
        assert kinds[0] == "ping"


def test_feed_frames_are_built_from_what_the_commands_wrote(
    world: World, engine: Engine, client: TestClient
) -> None:
    """After a commit, rendering its frames reads nothing back (each event carries the waiting
    counts it changed), and the frames say what the commands did."""
    after_commit_sql: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == "after-commit":
            after_commit_sql.append(statement.lower())

    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        assert next_change(ws)["type"] == "snapshot"
        event.listen(engine, "before_cursor_execute", note)
        try:
            ticket = world.take("A", priority="elderly")
            world.call("Loket 2")
            issued, called = next_change(ws), next_change(ws)
            client.app.state.writer.after_commit.drain()  # type: ignore[attr-defined]
        finally:
            event.remove(engine, "before_cursor_execute", note)
    assert issued["ticket"] == {
        "id": ticket["id"],
        "code": ticket["code"],
        "priority": "elderly",
        "status": "waiting",
        "service_id": world.services["A"]["id"],
        "counter_id": None,
    }
    assert called["counter"] == {"id": world.counters["Loket 2"]["id"], "name": "Loket 2"}
    assert called["waiting"] == {str(world.services["A"]["id"]): 0}
    assert after_commit_sql == []
