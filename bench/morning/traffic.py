"""The morning's requests, offered at fixed rates (open loop): kiosks issuing tickets at random
clinics, and staff moving the tickets along at random counters, as the API would see them.

Each clinic is followed from the answers it gets: how many wait in each service, what each
counter holds. A transition goes to a counter that has something to do: call the next when
someone waits, then recall, start, no-show (later requeued), transfer to the polyclinic, or
complete. Requests are sent when due whatever the state of earlier ones (up to a cap on
requests in flight, beyond which the generator says it fell behind).
"""

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.morning.seed import SeededClinic

MAX_IN_FLIGHT = 4000


@dataclass
class Held:
    ticket_id: int
    status: str  # called | serving


@dataclass
class ClinicState:
    seeded: SeededClinic
    waiting: list[int] = field(default_factory=lambda: [0, 0])  # per counter's service
    held: list[Held | None] = field(default_factory=lambda: [None, None])
    no_shows: list[tuple[int, int]] = field(default_factory=list)  # ticket id, side
    # A counter with a request on its way: its staff wait for the answer before the next.
    acting: list[bool] = field(default_factory=lambda: [False, False])


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    behind: int = 0  # requests not sent: too many in flight


class Morning:
    def __init__(self, base: str, clinics: list[SeededClinic], seed: int) -> None:
        self.base = base
        self.clinics = [ClinicState(c) for c in clinics]
        self.random = random.Random(seed)
        self.tally = Tally()
        self.in_flight = 0
        # Clinics with something for staff to do (someone waits, or a counter holds a ticket).
        self.busy: set[int] = set()

    async def run(self, tickets_per_s: float, transitions_per_s: float, seconds: float) -> None:
        connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, limit_per_host=MAX_IN_FLIGHT)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(self.base, connector=connector, timeout=timeout) as http:
            tasks: set[asyncio.Task[None]] = set()
            began = time.monotonic()
            sent_issue = sent_moves = 0
            while (elapsed := time.monotonic() - began) < seconds:
                due_issue = int(elapsed * tickets_per_s) - sent_issue
                due_moves = int(elapsed * transitions_per_s) - sent_moves
                for _ in range(due_issue):
                    self._launch(tasks, self._issue(http))
                for _ in range(due_moves):
                    self._launch(tasks, self._move(http))
                sent_issue += due_issue
                sent_moves += due_moves
                await asyncio.sleep(0.005)
            if tasks:
                await asyncio.wait(tasks, timeout=30)

    def _launch(self, tasks: set[asyncio.Task[None]], work: Any) -> None:
        if self.in_flight >= MAX_IN_FLIGHT:
            self.tally.behind += 1
            work.close()
            return
        task = asyncio.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _send(
        self, http: aiohttp.ClientSession, name: str, path: str, auth: str, body: Any = None
    ) -> tuple[int, Any]:
        self.in_flight += 1
        started = time.perf_counter()
        try:
            async with http.post(path, json=body, headers={"Authorization": auth}) as response:
                data = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            self.tally.errors[name] += 1
            return 0, None
        finally:
            self.in_flight -= 1
        self.tally.latencies[name].append(time.perf_counter() - started)
        self.tally.statuses[(name, status)] += 1
        if status >= 500 or status in (401, 403, 404, 422):
            self.tally.errors[name] += 1
        return status, data

    async def _issue(self, http: aiohttp.ClientSession) -> None:
        clinic = self.random.choice(self.clinics)
        seeded = clinic.seeded
        status, _ = await self._send(
            http,
            "issue",
            f"/api/v1/clinics/{seeded.id}/tickets",
            seeded.kiosk,
            {"service_id": seeded.registration},
        )
        if status == 201:
            clinic.waiting[0] += 1
            self.busy.add(seeded.id - 1)

    async def _move(self, http: aiohttp.ClientSession) -> None:
        if not self.busy:
            return
        index = self.random.choice(tuple(self.busy))  # a few thousand: cheap enough
        clinic = self.clinics[index]
        side = self.random.randrange(2)
        if clinic.acting[side] or (clinic.held[side] is None and clinic.waiting[side] == 0):
            side = 1 - side
        if clinic.acting[side]:
            return
        held = clinic.held[side]
        if held is None:
            if clinic.waiting[side] == 0:
                if clinic.no_shows:
                    ticket_id, queue = clinic.no_shows.pop()
                    await self._act(http, clinic, queue, ticket_id, "requeue")
                else:
                    self.busy.discard(index)
                return
            await self._call(http, clinic, side)
            return
        roll = self.random.random()
        if held.status == "called":
            action = "recall" if roll < 0.2 else "no-show" if roll < 0.3 else "start"
        else:
            action = "transfer" if side == 0 and roll < 0.5 else "complete"
        await self._act(http, clinic, side, held.ticket_id, action)

    async def _call(self, http: aiohttp.ClientSession, clinic: ClinicState, side: int) -> None:
        seeded = clinic.seeded
        clinic.waiting[side] -= 1  # taken now, so two moves never both count on it
        clinic.acting[side] = True
        try:
            status, data = await self._send(
                http,
                "call-next",
                f"/api/v1/counters/{seeded.counters[side]}/call-next",
                seeded.staff,
            )
        finally:
            clinic.acting[side] = False
        if status == 200:
            clinic.held[side] = Held(json.loads(data)["id"], "called")
        elif status == 204:
            clinic.waiting[side] = 0
        else:
            clinic.waiting[side] += 1

    async def _act(
        self,
        http: aiohttp.ClientSession,
        clinic: ClinicState,
        side: int,
        ticket_id: int,
        action: str,
    ) -> None:
        seeded = clinic.seeded
        held = clinic.held[side]
        if action != "requeue":
            clinic.held[side] = None  # the counter is busy with it until the answer
        body = {"service_id": seeded.polyclinic} if action == "transfer" else None
        counter_side = action != "requeue"
        if counter_side:
            clinic.acting[side] = True
        try:
            status, _ = await self._send(
                http, action, f"/api/v1/tickets/{ticket_id}/{action}", seeded.staff, body
            )
        finally:
            if counter_side:
                clinic.acting[side] = False
        if status != 200:
            if held is not None and action != "requeue":
                clinic.held[side] = held
            return
        if action == "recall":
            clinic.held[side] = held
        elif action == "start":
            clinic.held[side] = Held(ticket_id, "serving")
        elif action == "no-show":
            clinic.no_shows.append((ticket_id, side))
        elif action == "transfer":
            clinic.waiting[1] += 1
        elif action == "requeue":
            clinic.waiting[side] += 1
