"""Mobile JKN's calls replayed with BPJS's own headers and field names: the token, a booking
that becomes a ticket like any other, the same booking twice, status, sisapeserta and batal."""

import json
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from app.models import BpjsOutbox
from tests.bpjs_mjkn import (
    CARD,
    NIK,
    OTHER_CARD,
    TODAY,
    MobileJkn,
    bridge_on,
    outcome,
)
from tests.clock import FakeClock
from tests.test_realtime_feeds import next_change
from tests.world import World


def test_the_token_comes_in_bpjs_envelope_and_opens_the_other_calls(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world)
    answer = mjkn.auth()
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"response", "metadata"}  # `metadata` in lower case, as FKTP spells it
    assert body["metadata"] == {"message": "Ok", "code": 200}
    mjkn.token = body["response"]["token"]
    assert outcome(mjkn.status()) == (200, "Ok")


def test_wrong_or_missing_credentials_get_no_token(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world)
    assert outcome(mjkn.auth(password="salah-sekali")) == (
        201,
        "Username atau Password Tidak Sesuai",
    )
    assert outcome(mjkn.auth(username="orang.lain")) == (201, "Username atau Password Tidak Sesuai")
    empty = world.client.get(f"{mjkn.base}/auth")
    assert outcome(empty) == (201, "Username dan Password Harus Diisi")
    assert "response" not in empty.json()
    # No such clinic, or a clinic whose bridge is off: the same answer, nothing to tell apart.
    assert outcome(MobileJkn(world, code="TIDAKADA").auth()) == (
        201,
        "Username atau Password Tidak Sesuai",
    )


def test_a_missing_wrong_expired_or_revoked_token_is_refused(
    world: World, client: TestClient, clock: FakeClock
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    no_token = client.get(f"{mjkn.base}/antrean/status/001/{TODAY}")
    assert outcome(no_token) == (201, "Username dan Token Harus Diisi")
    forged = MobileJkn(world, token=mjkn.token[:-4] + "AAAA")
    assert outcome(forged.status()) == (201, "Token Tidak Valid")
    other_user = MobileJkn(world, username="orang.lain", token=mjkn.token)
    assert outcome(other_user.status()) == (201, "Token Tidak Valid")
    clock.advance(minutes=14)
    assert outcome(mjkn.status()) == (200, "Ok")
    clock.advance(minutes=2)
    assert outcome(mjkn.status()) == (201, "Token Expired")
    # A new password ends the tokens already given.
    fresh = MobileJkn(world).sign_in()
    assert outcome(fresh.status()) == (200, "Ok")
    changed = client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs",
        headers=world.clinic_admin,
        json={"password": "kata-sandi-baru-2026"},
    )
    assert changed.status_code == 200
    assert outcome(fresh.status()) == (201, "Token Tidak Valid")
    # The new password gets tokens again (turning the bridge off: test_bpjs_inbound_input.py).
    renamed = MobileJkn(world)
    assert outcome(renamed.auth(password="kata-sandi-baru-2026"))[0] == 200
    renamed.token = renamed.auth(password="kata-sandi-baru-2026").json()["response"]["token"]
    assert outcome(renamed.status()) == (200, "Ok")
    # A new username ends them too, even sent with the old name the token carries.
    changed = client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs",
        headers=world.clinic_admin,
        json={"username": "mjkn.baru"},
    )
    assert changed.status_code == 200
    assert outcome(renamed.status()) == (201, "Token Tidak Valid")


def test_a_token_of_one_clinic_opens_nothing_at_another(world: World, client: TestClient) -> None:
    bridge_on(world)
    other = World.build(client, code="SEPINGGAN")
    bridge_on(other)
    mjkn = MobileJkn(world).sign_in()
    elsewhere = MobileJkn(other, code="SEPINGGAN", token=mjkn.token)
    assert outcome(elsewhere.status()) == (201, "Token Tidak Valid")
    assert outcome(elsewhere.book()) == (201, "Token Tidak Valid")


def test_a_booking_is_a_ticket_of_the_shared_numbering_on_every_screen(world: World) -> None:
    bridge_on(world)
    walk_in = world.take("A")  # A-001 from the kiosk
    mjkn = MobileJkn(world).sign_in()
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        next_change(ws)  # the snapshot
        answer = mjkn.book()
        change = next_change(ws)
    assert outcome(answer) == (200, "Ok")
    booked = answer.json()["response"]
    assert booked["nomorantrean"] == "A-002"
    assert booked["angkaantrean"] == 2
    assert booked["namapoli"] == "Pendaftaran"
    assert booked["sisaantrean"] == 1  # the walk-in before it
    assert booked["antreanpanggil"] == ""
    assert booked["keterangan"]
    assert world.waiting_codes("A") == [walk_in["code"], "A-002"]
    ticket_id = change["ticket"]["id"]
    assert change["ticket"]["code"] == "A-002"
    staff_view = world.client.get(f"/api/v1/tickets/{ticket_id}", headers=world.staff).json()
    assert staff_view["channel"] == "bpjs"
    assert staff_view["visit_date"] == TODAY
    # The card and the NIK are nowhere on the display's feed or the public queue.
    public = json.dumps(change) + json.dumps(world.queue())
    with world.client.websocket_connect(f"/ws/clinics/{world.clinic_id}") as ws:
        public += json.dumps(next_change(ws))
    for secret in (CARD, NIK, "081234567890", "RM-000123", "demam"):
        assert secret not in public
    # Called like any other ticket.
    world.call("Loket 1")
    assert world.call("Loket 2").json()["code"] == "A-002"


def test_the_same_card_poli_and_day_gets_one_number_only(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    assert outcome(mjkn.book()) == (200, "Ok")
    again = mjkn.book()
    assert outcome(again) == (
        201,
        "Nomor Antrean Hanya Dapat Diambil 1 Kali Pada Tanggal dan Poli Yang Sama",
    )
    assert world.waiting_codes("A") == ["A-001"]
    # The refused one took no number: the next ticket is A-002.
    assert world.take("A")["code"] == "A-002"
    # Another poli, or another card, is another booking.
    assert outcome(mjkn.book(kodepoli="002")) == (200, "Ok")
    assert outcome(mjkn.book(nomorkartu=OTHER_CARD)) == (200, "Ok")
    assert world.waiting_codes("A") == ["A-001", "A-002", "A-003"]


def test_a_booking_for_tomorrow_takes_tomorrows_number(world: World, clock: FakeClock) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    answer = mjkn.book(tanggalperiksa="2026-11-24")
    assert outcome(answer) == (200, "Ok")
    assert answer.json()["response"]["nomorantrean"] == "A-001"
    assert world.waiting_codes("A") == []  # not in today's queue
    assert world.take("A")["code"] == "A-001"  # today's numbering is its own
    clock.advance(days=1)
    assert world.waiting_codes("A") == ["A-001"]
    assert world.take("A")["code"] == "A-002"


def test_status_counts_the_polis_day(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    world.take("A")
    mjkn.book()
    world.take("A")
    world.call("Loket 1")
    answer = mjkn.status("001")
    assert outcome(answer) == (200, "Ok")
    assert answer.json()["response"] == [
        {
            "namapoli": "Pendaftaran",
            "totalantrean": "3",
            "sisaantrean": 2,
            "antreanpanggil": "A-001",
            "keterangan": "",
            "kodedokter": "",
            "namadokter": "",
            "jampraktek": "",
        }
    ]


def test_sisapeserta_tells_how_many_wait_before_the_card(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    world.take("A")
    world.take("A")
    mjkn.book()
    answer = mjkn.remaining()
    assert outcome(answer) == (200, "Ok")
    assert answer.json()["response"] == {
        "nomorantrean": "A-003",
        "namapoli": "Pendaftaran",
        "sisaantrean": 2,
        "antreanpanggil": "",
        "keterangan": "",
    }
    world.call("Loket 1")
    after = mjkn.remaining().json()["response"]
    assert (after["sisaantrean"], after["antreanpanggil"]) == (1, "A-001")
    assert outcome(mjkn.remaining(card=OTHER_CARD)) == (201, "Antrean Tidak Ditemukan")


def test_batal_cancels_the_ticket_through_the_queue_and_marks_that_bpjs_asked(
    world: World,
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    mjkn.book()
    answer = mjkn.cancel()
    assert outcome(answer) == (200, "Ok")
    assert "response" not in answer.json()
    assert world.waiting_codes("A") == []
    assert outcome(mjkn.remaining()) == (201, "Antrean Tidak Ditemukan")
    assert outcome(mjkn.cancel()) == (201, "Antrean Tidak Ditemukan atau Sudah Dibatalkan")
    assert outcome(mjkn.cancel(nomorkartu=OTHER_CARD)) == (201, "Antrean Tidak Ditemukan")
    # Cancelled, the card may book that poli and day again.
    rebooked = mjkn.book()
    assert outcome(rebooked) == (200, "Ok")
    assert rebooked.json()["response"]["nomorantrean"] == "A-002"


def test_batal_of_a_patient_already_called_is_refused(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    mjkn.book()
    called = world.call("Loket 1").json()
    assert outcome(mjkn.cancel()) == (201, "Pasien Sudah Dilayani, Antrean Tidak Dapat Dibatalkan")
    assert world.ticket(called)["status"] == "called"


def test_the_same_booking_sent_at_once_makes_one_ticket(world: World) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: mjkn.book(), range(6)))
    outcomes = sorted(outcome(answer) for answer in answers)
    assert (
        outcomes
        == [(200, "Ok")]
        + [(201, "Nomor Antrean Hanya Dapat Diambil 1 Kali Pada Tanggal dan Poli Yang Sama")] * 5
    )
    assert world.waiting_codes("A") == ["A-001"]


def test_batal_of_a_no_show_or_of_a_past_day_is_refused(world: World, clock: FakeClock) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    mjkn.book()
    called = world.call("Loket 1").json()
    assert world.act(called, "no-show").status_code == 200
    assert outcome(mjkn.cancel()) == (201, "Antrean Tidak Dapat Dibatalkan")
    mjkn.book(nomorkartu=OTHER_CARD)
    clock.advance(days=1)
    late = MobileJkn(world).sign_in()
    assert outcome(late.cancel(nomorkartu=OTHER_CARD)) == (201, "Antrean Tidak Dapat Dibatalkan")


def test_the_outbox_reports_a_bookings_call_but_not_bpjs_own_batal(
    world: World, engine: Engine
) -> None:
    bridge_on(world)
    mjkn = MobileJkn(world).sign_in()
    mjkn.book()
    mjkn.book(nomorkartu=OTHER_CARD)
    world.call("Loket 1")  # the first booking is called: BPJS hears of it (panggil)
    assert outcome(mjkn.cancel(nomorkartu=OTHER_CARD)) == (200, "Ok")  # BPJS's own batal
    with Session(engine) as session:
        kinds = [row.kind.value for row in session.execute(select(BpjsOutbox)).scalars()]
    assert kinds == ["panggil"]
