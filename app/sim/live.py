"""A live morning: simulated kiosks and counters acting on a running service at real speed.

The demo runs this beside its server so that a newcomer who opens a display page sees numbers
called and hears them. Everything goes through the public HTTP API with the demo's own
credentials (a kiosk key, a staff login), exactly as the kiosk and staff pages do: patients
arrive at the scenario's morning rate, pick a journey and a priority by its shares, and each
counter calls the next ticket, sometimes marks a no-show, starts, and after a service time drawn
from the scenario transfers the patient along the journey or completes the visit.
"""

import asyncio
import logging
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from app.sim.record import SimClinic
from app.sim.scenario import ClinicPlan

log = logging.getLogger("antrean.live")


@dataclass(frozen=True)
class LiveService:
    id: int
    name: str
    mean_minutes: float
    sd_minutes: float


@dataclass(frozen=True)
class LiveJourney:
    share: float
    path: tuple[int, ...]  # service ids, the first is the entry service


@dataclass
class LiveClinic:
    """One clinic of the live morning: who acts, and the scenario's figures for it."""

    clinic_id: int
    kiosk_key: str
    staff_username: str
    staff_password: str
    arrivals_per_hour: float
    priority_share: float
    no_show_share: float
    journeys: Sequence[LiveJourney]
    services: dict[int, LiveService]
    counters: dict[int, tuple[int, ...]]  # counter id -> the service ids it calls from
    paths: dict[int, list[int]] = field(default_factory=dict)  # ticket id -> services to come


PRIORITIES = ("elderly", "pregnant", "disabled", "child")


def service_seconds(rng: random.Random, service: LiveService, speed: float) -> float:
    """Lognormal with the service's mean and spread, in real seconds."""
    mean = max(service.mean_minutes, 0.1)
    sigma2 = math.log(1 + (service.sd_minutes / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    return 60 * rng.lognormvariate(mu, math.sqrt(sigma2)) / speed


async def _wait_until_up(client: httpx.AsyncClient, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)


async def _arrivals(
    client: httpx.AsyncClient,
    clinic: LiveClinic,
    rng: random.Random,
    speed: float,
    stop: asyncio.Event,
    opening_crowd: int,
) -> None:
    kiosk = {"Authorization": f"Bearer {clinic.kiosk_key}"}
    shares = [journey.share for journey in clinic.journeys]
    arrived = 0
    while not stop.is_set():
        if arrived >= opening_crowd:  # the crowd at the door first, then the morning's rate
            await asyncio.sleep(rng.expovariate(clinic.arrivals_per_hour * speed / 3600))
        journey = rng.choices(clinic.journeys, weights=shares)[0]
        priority = rng.choice(PRIORITIES) if rng.random() < clinic.priority_share else "none"
        answer = await client.post(
            f"/api/v1/clinics/{clinic.clinic_id}/tickets",
            headers=kiosk,
            json={"service_id": journey.path[0], "priority": priority},
        )
        arrived += 1
        if answer.status_code == 201:
            clinic.paths[answer.json()["id"]] = list(journey.path[1:])
        else:  # a closed service or a quota: the patient goes home
            log.info("live kiosk: %s %s", answer.status_code, answer.text[:120])


async def _counter(
    client: httpx.AsyncClient,
    clinic: LiveClinic,
    counter_id: int,
    staff: dict[str, str],
    rng: random.Random,
    speed: float,
    stop: asyncio.Event,
) -> None:
    await asyncio.sleep(rng.uniform(1, 8) / speed)  # counters open one after another
    while not stop.is_set():
        called = await client.post(f"/api/v1/counters/{counter_id}/call-next", headers=staff)
        if called.status_code != 200:  # nobody waits (204), or a refusal: look again soon
            await asyncio.sleep(rng.uniform(5, 12) / speed)
            continue
        ticket = called.json()
        act = f"/api/v1/tickets/{ticket['id']}"
        if rng.random() < clinic.no_show_share:
            await asyncio.sleep(rng.uniform(15, 30) / speed)  # called twice on the TV, nobody
            await client.post(f"{act}/recall", headers=staff)
            await asyncio.sleep(rng.uniform(15, 30) / speed)
            await client.post(f"{act}/no-show", headers=staff)
            continue
        await asyncio.sleep(rng.uniform(8, 20) / speed)  # the patient walks to the counter
        await client.post(f"{act}/start", headers=staff)
        await asyncio.sleep(service_seconds(rng, clinic.services[ticket["service_id"]], speed))
        ahead = clinic.paths.get(ticket["id"], [])
        if ahead:
            await client.post(f"{act}/transfer", headers=staff, json={"service_id": ahead.pop(0)})
        else:
            clinic.paths.pop(ticket["id"], None)
            await client.post(f"{act}/complete", headers=staff)


async def _login(client: httpx.AsyncClient, clinic: LiveClinic) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/token",
        data={"username": clinic.staff_username, "password": clinic.staff_password},
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _run_clinic(
    client: httpx.AsyncClient,
    clinic: LiveClinic,
    rng: random.Random,
    speed: float,
    stop: asyncio.Event,
    opening_crowd: int,
) -> None:
    staff = await _login(client, clinic)
    # One failing loop ends them all (the clinic starts again), never half a clinic running.
    async with asyncio.TaskGroup() as group:
        group.create_task(
            _arrivals(client, clinic, random.Random(rng.random()), speed, stop, opening_crowd)
        )
        for counter_id in clinic.counters:
            group.create_task(
                _counter(
                    client, clinic, counter_id, staff, random.Random(rng.random()), speed, stop
                )
            )


async def run_live(
    base_url: str,
    clinics: Sequence[LiveClinic],
    *,
    seed: int = 1,
    speed: float = 1.0,
    opening_crowd: int = 8,
    stop: asyncio.Event | None = None,
) -> None:
    """Act on the service at `base_url` until `stop` is set; a failing clinic is logged and
    started again, so a restarted server is picked up."""
    stop = stop or asyncio.Event()
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        await _wait_until_up(client, stop)

        async def keep_running(clinic: LiveClinic, clinic_rng: random.Random) -> None:
            crowd = opening_crowd
            while not stop.is_set():
                try:
                    await _run_clinic(client, clinic, clinic_rng, speed, stop, crowd)
                except* (httpx.HTTPError, KeyError, ValueError) as errors:
                    log.warning("live morning, clinic %s: %r", clinic.clinic_id, errors.exceptions)
                    crowd = 0
                    await asyncio.sleep(2)

        await asyncio.gather(
            *(keep_running(clinic, random.Random(rng.random())) for clinic in clinics)
        )


def live_clinic(
    plan: ClinicPlan,
    clinic: SimClinic,
    *,
    kiosk_key: str,
    staff_username: str,
    staff_password: str,
) -> LiveClinic:
    """A scenario clinic (built with its real ids) as the live morning drives it: arrivals at
    the mean rate of its open hours. (At the busiest hour's rate, kept up all day, a poli
    with less capacity than that would gain patients hour after hour.)"""
    ids = clinic.services
    return LiveClinic(
        clinic_id=clinic.id,
        kiosk_key=kiosk_key,
        staff_username=staff_username,
        staff_password=staff_password,
        arrivals_per_hour=statistics.fmean(plan.arrivals_per_hour.values()),
        priority_share=plan.shares.priority,
        no_show_share=plan.shares.no_show,
        journeys=[
            LiveJourney(journey.share, tuple(ids[name] for name in journey.path))
            for journey in plan.journeys
        ],
        services={
            ids[service.name]: LiveService(
                ids[service.name],
                service.name,
                service.service_minutes.mean,
                service.service_minutes.sd,
            )
            for service in plan.services
        },
        counters={
            counter_id: tuple(ids[name] for name in clinic.counter_services[counter])
            for counter, counter_id in clinic.counters.items()
        },
    )
