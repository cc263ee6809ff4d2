"""A clinic morning as load (kiosks, phones, counters), kept as a journal of what each client
sent and what it was answered, and the checks of a database against that journal after the
server was killed again and again (tests/test_crash_rounds.py).

What a client may conclude from its answers, and no more:

- a 2xx means the change is committed: its event is in the log, the ticket exists;
- a request that got no answer (the server was killed) may or may not have been committed;
- a ticket's stored state equals the last 2xx about it, unless an unanswered request that could
  have touched it was still in flight after that 2xx was asked for ("not determinable").
"""

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx2 as httpx
from sqlalchemy import Engine, text

from app.models import TicketStatus
from app.queueing.errors import IllegalTransition
from app.queueing.states import RULES, Action, Transition, transition

Json = dict[str, Any]
Headers = dict[str, str]

OK, REFUSED, UNKNOWN = "ok", "refused", "unknown"
# A client gives up on a request after this long without an answer (the server restarting
# takes a second or two; a hang is a finding).
REQUEST_TIMEOUT = 10.0
STAFF_PASSWORD = "staff-password-1"

# The event an acted request leaves in the log, and the action replaying that event.
EVENT_OF = {
    "issue": "issued",
    "call-next": "called",
    "recall": "recalled",
    "start": "started",
    "complete": "completed",
    "no-show": "no_show",
    "requeue": "requeued",
    "transfer": "transferred",
}
# The action behind each event type, from the state machine's own table.
REPLAY: dict[str, Action] = {rule.event.value: action for action, rule in RULES.items()}


@dataclass
class Sent:
    """One request as its client saw it."""

    kind: str  # a key of EVENT_OF
    ticket_id: int | None  # None: issue and call-next (the server picks)
    counter_id: int | None
    sent: float
    done: float = 0.0
    outcome: str = ""
    status_code: int | None = None
    body: Json | None = None
    key: str | None = None  # the kiosk's Idempotency-Key


@dataclass
class Ack:
    """A ticket's state as a 2xx told it (or as a 2xx implied it: call-next completes the
    ticket the counter held)."""

    ticket_id: int
    event: str
    status: str
    service_id: int
    counter_id: int | None
    asked: float  # when the request was sent
    answered: float = 0.0  # when its answer came


@dataclass
class ClinicSetup:
    id: int
    kiosk: Headers
    staff: Headers
    services: dict[str, int]  # prefix -> id
    counters: dict[str, tuple[int, list[int]]]  # name -> (id, service ids)


@dataclass
class Journal:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: list[Sent] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    # Idempotency-Key -> the ticket it finally got (kiosks retry a key until answered).
    keys: dict[str, int] = field(default_factory=dict)
    counters_services: dict[int, list[int]] = field(default_factory=dict)

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)

    def ack(self, sent: Sent, ticket: Json, event: str) -> None:
        with self.lock:
            self.acks.append(
                Ack(
                    ticket["id"],
                    event,
                    ticket["status"],
                    ticket["service_id"],
                    ticket.get("counter_id"),
                    sent.sent,
                    sent.done,
                )
            )


def setup_clinic(base: str, admin: Headers, code: str) -> ClinicSetup:
    """A clinic taking phone tickets: two entry services (A, C), one reached by transfer (B),
    four counters, a staff account and a kiosk."""
    with httpx.Client(base_url=f"{base}/api/v1", headers=admin, timeout=10) as http:

        def made(response: httpx.Response) -> Json:
            assert response.status_code == 201, response.text
            body: Json = response.json()
            return body

        clinic = made(
            http.post(
                "/clinics",
                json={
                    "code": code,
                    "name": f"Puskesmas {code.title()}",
                    "timezone": "Asia/Jakarta",
                },
            )
        )
        cid = clinic["id"]
        services = {
            prefix: made(
                http.post(
                    f"/clinics/{cid}/services",
                    json={"name": f"Layanan {prefix}", "prefix": prefix, "entry": prefix != "B"},
                )
            )["id"]
            for prefix in ("A", "B", "C")
        }
        counters = {}
        for name, prefixes in (("A1", "A"), ("A2", "A"), ("B1", "B"), ("AC", "AC")):
            ids = [services[p] for p in prefixes]
            counter = made(
                http.post(f"/clinics/{cid}/counters", json={"name": name, "service_ids": ids})
            )
            counters[name] = (counter["id"], ids)
        username = f"{code.lower()}.staff"
        made(
            http.post(
                "/users",
                json={
                    "username": username,
                    "password": STAFF_PASSWORD,
                    "role": "staff",
                    "clinic_id": cid,
                },
            )
        )
        token = http.post(
            "/auth/token", data={"username": username, "password": STAFF_PASSWORD}
        ).json()["access_token"]
        kiosk = made(http.post(f"/clinics/{cid}/devices", json={"name": "Kios", "kind": "kiosk"}))
    return ClinicSetup(
        id=cid,
        kiosk={"Authorization": f"Bearer {kiosk['key']}"},
        staff={"Authorization": f"Bearer {token}"},
        services=services,
        counters=counters,
    )


class Load:
    """Client threads against `base`, each recording in the journal, until `stop`."""

    def __init__(self, base: str, clinics: list[ClinicSetup], seed: int) -> None:
        self.base = base
        self.clinics = clinics
        self.journal = Journal()
        self.stop = threading.Event()
        self.seed = seed
        self.threads: list[threading.Thread] = []
        for clinic in clinics:
            for counter_id, service_ids in clinic.counters.values():
                self.journal.counters_services[counter_id] = service_ids

    def start(self) -> None:
        n = 0
        for clinic in self.clinics:
            workers: list[tuple[str, Callable[..., None], tuple[Any, ...]]] = [
                ("kiosk", self.kiosk, (clinic,)),
                ("kiosk", self.kiosk, (clinic,)),
                ("phone", self.phone, (clinic,)),
            ]
            workers += [(name, self.counter, (clinic, name)) for name in clinic.counters]
            for name, work, args in workers:
                n += 1
                rng = random.Random(self.seed * 1000 + n)
                thread = threading.Thread(
                    target=work, args=(rng, *args), name=f"{clinic.id}-{name}", daemon=True
                )
                self.threads.append(thread)
                thread.start()

    def finish(self, timeout: float = 60) -> None:
        """Stop and wait: kiosks first get an answer for the key they were retrying."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"clients still waiting for answers: {alive}"

    # -- one request ---------------------------------------------------------------------

    def request(
        self,
        http: httpx.Client,
        sent: Sent,
        path: str,
        headers: Headers,
        json: Json | None = None,
    ) -> Sent:
        try:
            response = http.post(path, headers=headers, json=json)
        except httpx.TransportError:
            sent.outcome = UNKNOWN
        else:
            sent.status_code = response.status_code
            if response.status_code >= 500:
                sent.outcome = UNKNOWN
            elif response.status_code >= 300:
                sent.outcome = REFUSED
            else:
                sent.outcome = OK
            if response.content:
                sent.body = response.json()
        sent.done = time.monotonic()
        self.journal.add(sent)
        if sent.outcome == UNKNOWN:
            time.sleep(0.1)  # the server is down or restarting
        return sent

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.base}/api/v1", timeout=REQUEST_TIMEOUT)

    # -- the clients -----------------------------------------------------------------------

    def kiosk(self, rng: random.Random, clinic: ClinicSetup) -> None:
        """Takes tickets with an Idempotency-Key, retrying a key until it is answered."""
        with self.client() as http:
            while not self.stop.is_set():
                key = str(uuid.UUID(int=rng.getrandbits(128)))
                service_id = clinic.services[rng.choice("AAC")]
                give_up = None
                while True:
                    sent = self.request(
                        http,
                        Sent("issue", None, None, time.monotonic(), key=key),
                        f"/clinics/{clinic.id}/tickets",
                        {**clinic.kiosk, "Idempotency-Key": key},
                        {"service_id": service_id},
                    )
                    if sent.outcome == OK:
                        assert sent.body is not None
                        self.journal.ack(sent, sent.body, "issued")
                        with self.journal.lock:
                            self.journal.keys[key] = sent.body["id"]
                        break
                    if sent.outcome == REFUSED:
                        break
                    if self.stop.is_set():  # answered by the last server, or given up
                        give_up = give_up or time.monotonic() + 30
                        if time.monotonic() > give_up:
                            break
                time.sleep(rng.uniform(0.01, 0.05))

    def phone(self, rng: random.Random, clinic: ClinicSetup) -> None:
        """Anonymous tickets (no key: a phone that gets no answer just tries again later)."""
        with self.client() as http:
            while not self.stop.is_set():
                sent = self.request(
                    http,
                    Sent("issue", None, None, time.monotonic()),
                    f"/clinics/{clinic.id}/tickets",
                    {},
                    {"service_id": clinic.services[rng.choice("AC")]},
                )
                if sent.outcome == OK:
                    assert sent.body is not None
                    self.journal.ack(sent, sent.body, "issued")
                time.sleep(rng.uniform(0.02, 0.1))

    def counter(self, rng: random.Random, clinic: ClinicSetup, name: str) -> None:
        """Calls, then starts, completes, transfers, marks no-shows, requeues them, recalls.
        It acts only on the ticket a 2xx told it it holds; after a request without an answer
        it no longer knows, and the next call-next completes whatever it holds."""
        counter_id, service_ids = clinic.counters[name]
        staff = clinic.staff
        transfer_to = clinic.services["B"]
        held: Json | None = None
        no_shows: list[Json] = []
        with self.client() as http:

            def act(ticket: Json, kind: str, body: Json | None = None) -> Sent:
                sent = self.request(
                    http,
                    Sent(kind, ticket["id"], counter_id, time.monotonic()),
                    f"/tickets/{ticket['id']}/{kind}",
                    staff,
                    body,
                )
                if sent.outcome == OK:
                    assert sent.body is not None
                    self.journal.ack(sent, sent.body, EVENT_OF[kind])
                return sent

            while not self.stop.is_set():
                if no_shows and rng.random() < 0.3:
                    act(no_shows.pop(rng.randrange(len(no_shows))), "requeue")
                sent = self.request(
                    http,
                    Sent("call-next", None, counter_id, time.monotonic()),
                    f"/counters/{counter_id}/call-next",
                    staff,
                )
                if sent.outcome == UNKNOWN:
                    held = None
                    continue
                if sent.status_code == 204 or sent.outcome != OK:
                    time.sleep(rng.uniform(0.05, 0.15))
                    continue
                assert sent.body is not None
                if held is not None:  # call-next completed it
                    done = {**held, "status": TicketStatus.done.value}
                    self.journal.ack(sent, done, "completed")
                held = sent.body
                self.journal.ack(sent, held, "called")
                time.sleep(rng.uniform(0, 0.03))
                roll = rng.random()
                if roll < 0.1:
                    if act(held, "recall").outcome != OK:
                        held = None
                        continue
                    roll = rng.random()
                if roll < 0.15:
                    sent = act(held, "no-show")
                    if sent.outcome == OK:
                        no_shows.append(held)
                    held = None
                    continue
                if roll < 0.25 and transfer_to not in service_ids:
                    act(held, "transfer", {"service_id": transfer_to})
                    held = None
                    continue
                if roll < 0.7:
                    sent = act(held, "start")
                    if sent.outcome != OK:
                        held = None
                        continue
                    held = sent.body
                    assert held is not None
                    roll = rng.random()
                    if roll < 0.2 and transfer_to not in service_ids:
                        act(held, "transfer", {"service_id": transfer_to})
                        held = None
                        continue
                if roll < 0.85:
                    act(held, "complete")
                    held = None
                # else: the next call-next completes it


# -- the checks --------------------------------------------------------------------------


@dataclass
class Stored:
    tickets: dict[int, Json]
    events: dict[int, list[Json]]  # per ticket, in log order
    seqs: dict[int, list[int]]  # per clinic

    def only(self, clinic_ids: set[int]) -> "Stored":
        """What these clinics hold (others in the database were not the journal's load)."""
        tickets = {t: row for t, row in self.tickets.items() if row["clinic_id"] in clinic_ids}
        return Stored(
            tickets,
            {t: events for t, events in self.events.items() if t in tickets},
            {c: seqs for c, seqs in self.seqs.items() if c in clinic_ids},
        )


def read_database(engine: Engine) -> Stored:
    with engine.connect() as connection:
        tickets = {
            row["id"]: dict(row)
            for row in connection.execute(
                text(
                    "SELECT id, clinic_id, service_id, origin_service_id, counter_id, visit_date,"
                    " number, status, channel, leg FROM ticket"
                )
            ).mappings()
        }
        events: dict[int, list[Json]] = defaultdict(list)
        seqs: dict[int, list[int]] = defaultdict(list)
        for row in connection.execute(
            text(
                "SELECT id, clinic_id, seq, ticket_id, type, leg, service_id, counter_id,"
                " to_service_id FROM ticket_event ORDER BY id"
            )
        ).mappings():
            events[row["ticket_id"]].append(dict(row))
            seqs[row["clinic_id"]].append(row["seq"])
    return Stored(tickets, dict(events), dict(seqs))


def replay(events: list[Json]) -> tuple[str, int, int]:
    """A ticket's status, service and leg from its events through the state rules."""
    status: TicketStatus | None = None
    service_id, leg = 0, 0
    for event in events:
        action = REPLAY[event["type"]]
        moved = transition(status, action)
        assert isinstance(moved, Transition), f"{event['type']} from {status}: {events}"
        if action is Action.issue:
            status, service_id, leg = moved.status, event["service_id"], event["leg"]
            continue
        assert event["service_id"] == service_id, f"an event in the wrong service: {events}"
        status = moved.status
        if action is Action.transfer:
            service_id, leg = event["to_service_id"], leg + 1
    assert status is not None, "a ticket without events"
    return status.value, service_id, leg


def double_calls(events: list[Json]) -> list[Json]:
    """Calls by call-next of a ticket already called in that leg with no requeue in between
    (a recall is its own event type; a transfer starts a new leg)."""
    found = []
    called: set[int] = set()
    for event in events:
        if event["type"] == "called":
            if event["leg"] in called:
                found.append(event)
            called.add(event["leg"])
        elif event["type"] == "requeued":
            called.discard(event["leg"])
    return found


def may_touch(unanswered: Sent, ack: Ack, counters_services: dict[int, list[int]]) -> bool:
    """Could this request, sent and not answered, have changed the ticket after `ack`?"""
    if unanswered.done <= ack.asked:  # it had failed before the ack's request was sent
        return False
    if unanswered.ticket_id is not None:
        return unanswered.ticket_id == ack.ticket_id
    if unanswered.kind != "call-next":
        return False
    if ack.status == "waiting":
        return ack.service_id in counters_services[unanswered.counter_id or 0]
    return ack.status in ("called", "serving") and unanswered.counter_id == ack.counter_id


def check(
    journal: Journal, stored: Stored, allowed: frozenset[int] = frozenset()
) -> dict[str, int]:
    """Every finding as an assertion; returns counts for the test's report. `allowed`: the
    5xx statuses expected here (503 while the database is away), taken as "no answer"."""
    problems: list[str] = []
    statuses = Counter(s.status_code for s in journal.sent)
    for sent in journal.sent:
        if sent.status_code is not None and (
            sent.status_code >= 500 and sent.status_code not in allowed
        ):
            problems.append(f"{sent.kind} answered {sent.status_code}: {sent.body}")

    # Every ticket a client got a 2xx for exists, with the events the 2xx's reported.
    acks_by_ticket: dict[int, list[Ack]] = defaultdict(list)
    for ack in journal.acks:
        acks_by_ticket[ack.ticket_id].append(ack)
    for ticket_id, acks in acks_by_ticket.items():
        if ticket_id not in stored.tickets:
            problems.append(f"ticket {ticket_id} was answered 2xx but is not stored")
            continue
        logged = Counter(e["type"] for e in stored.events.get(ticket_id, []))
        for event_type, n in Counter(a.event for a in acks).items():
            if logged[event_type] < n:
                problems.append(
                    f"ticket {ticket_id}: {n} {event_type} answered 2xx, {logged[event_type]} "
                    f"in the log"
                )

    # State consistent with the last 2xx, where no unanswered request may have moved it since.
    unanswered = [s for s in journal.sent if s.outcome == UNKNOWN]
    determinable = 0
    for ticket_id, acks in acks_by_ticket.items():
        if ticket_id not in stored.tickets:
            continue
        # Issued first; then the counters' answers in the order they were asked (a counter
        # acts on a ticket only after a 2xx told it the ticket was its own).
        last = max(acks, key=lambda a: (a.event != "issued", a.asked))
        if any(a is not last and a.event != "issued" and a.answered > last.asked for a in acks):
            continue  # two answers in flight together: their order is not the clients' to tell
        if any(may_touch(u, last, journal.counters_services) for u in unanswered):
            continue
        determinable += 1
        row = stored.tickets[ticket_id]
        if (row["status"], row["service_id"]) != (last.status, last.service_id):
            problems.append(
                f"ticket {ticket_id} stored {row['status']} in {row['service_id']}, the last "
                f"2xx said {last.status} in {last.service_id} ({last.event})"
            )

    # Nothing in the log that no request asked for.
    asked = Counter(
        (s.ticket_id, EVENT_OF[s.kind])
        for s in journal.sent
        if s.ticket_id is not None and s.outcome in (OK, UNKNOWN)
    )
    calls_asked = Counter(
        s.counter_id for s in journal.sent if s.kind == "call-next" and s.outcome in (OK, UNKNOWN)
    )
    calls_logged: Counter[int | None] = Counter()
    for ticket_id, events in stored.events.items():
        for event_type, n in Counter(e["type"] for e in events).items():
            if event_type in ("recalled", "started", "no_show", "requeued", "transferred"):
                if n > asked[(ticket_id, event_type)]:
                    problems.append(f"ticket {ticket_id}: {n} {event_type}, fewer asked")
        calls_logged.update(e["counter_id"] for e in events if e["type"] == "called")
    for counter_id, n in calls_logged.items():
        if n > calls_asked[counter_id]:
            problems.append(f"counter {counter_id}: {n} calls logged, {calls_asked[counter_id]}")

    # Tickets issued: one per Idempotency-Key at most, none a client did not ask for.
    kiosk_tickets = {t for t, row in stored.tickets.items() if row["channel"] == "kiosk"}
    keyed = set(journal.keys.values())
    if len(keyed) != len(journal.keys):
        problems.append("two keys answered with one ticket")
    if kiosk_tickets != keyed:
        problems.append(
            f"kiosk tickets without their key's answer: {sorted(kiosk_tickets - keyed)[:10]}, "
            f"answered but not stored: {sorted(keyed - kiosk_tickets)[:10]}"
        )
    phone_asked = sum(
        1 for s in journal.sent if s.kind == "issue" and s.key is None and s.outcome != REFUSED
    )
    phone_stored = sum(1 for row in stored.tickets.values() if row["channel"] == "phone")
    if phone_stored > phone_asked:
        problems.append(f"{phone_stored} phone tickets stored, {phone_asked} asked")

    # Numbers per clinic, service and day: 1..N; each clinic's event seq: 1..N.
    numbers: dict[tuple[int, int, date], list[int]] = defaultdict(list)
    for row in stored.tickets.values():
        numbers[(row["clinic_id"], row["origin_service_id"], row["visit_date"])].append(
            row["number"]
        )
    for where, found in numbers.items():
        if sorted(found) != list(range(1, len(found) + 1)):
            problems.append(f"numbers of {where} are not 1..{len(found)}: {sorted(found)}")
    for clinic_id, seqs in stored.seqs.items():
        if sorted(seqs) != list(range(1, len(seqs) + 1)):
            problems.append(f"clinic {clinic_id}: event seq not 1..{len(seqs)}")

    # The log replays to every ticket's stored state, and calls no ticket twice.
    for ticket_id, row in stored.tickets.items():
        events = stored.events.get(ticket_id, [])
        twice = double_calls(events)
        if twice:
            problems.append(f"ticket {ticket_id} called twice: {twice}")
        try:
            replayed = replay(events)
        except (AssertionError, IllegalTransition) as exc:
            problems.append(f"ticket {ticket_id}: the log does not replay ({exc})")
            continue
        if replayed != (row["status"], row["service_id"], row["leg"]):
            problems.append(
                f"ticket {ticket_id} stored {(row['status'], row['service_id'], row['leg'])}, "
                f"its log replays to {replayed}"
            )
    held: Counter[int] = Counter(
        row["counter_id"] for row in stored.tickets.values() if row["status"] in HELD
    )
    problems += [f"counter {c} holds {n} tickets" for c, n in held.items() if n > 1]

    assert not problems, "\n".join(problems[:30])
    return {
        "tickets": len(stored.tickets),
        "events": sum(len(e) for e in stored.events.values()),
        "requests": len(journal.sent),
        "unanswered": len(unanswered),
        "acked tickets": len(acks_by_ticket),
        "determinable": determinable,
        **{f"http {code}": n for code, n in sorted(statuses.items(), key=str) if code},
    }


HELD = ("called", "serving")


def rounds(rng: random.Random, n: int, low: float, high: float) -> Iterator[float]:
    for _ in range(n):
        yield rng.uniform(low, high)
