"""The application factory: `uvicorn app.main:app` serves Antrean."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from app.after_commit import AfterCommit
from app.auth.ratelimit import ClientRateLimit
from app.auth.tokens import load_signing_key
from app.bpjs.inbound import routes as bpjs_inbound
from app.bpjs.outbox.deliver import Delivery
from app.bpjs.outbox.sender import ClientSender
from app.bpjs.outbox.worker import OutboxWorker
from app.clock import Clock, system_clock
from app.config import Settings, get_settings
from app.db import make_engine
from app.directory.accounts import Accounts
from app.directory.memo import RELOAD_SECONDS
from app.directory.setups import SETUPS_INFO, Setups
from app.directory.users import bootstrap_admin
from app.error_docs import document_errors
from app.errors import install_error_handlers
from app.http.install import install_guards
from app.migrate import upgrade_to_head
from app.observability.install import install_metrics
from app.queueing.expiry import CLEARED_DAYS_INFO
from app.realtime import routes as realtime_routes
from app.realtime.backends import make_backend
from app.realtime.hub import CLINIC_CHANGED, Hub
from app.realtime.publish import feeds_consumer
from app.realtime.reads import DatabaseReads
from app.realtime.sweep import sweep_forever
from app.routers import (
    auth,
    bpjs,
    bpjs_outbox,
    clinics,
    counters,
    devices,
    queue,
    reports,
    services,
    tickets,
    users,
)
from app.routers.params import API_PREFIX
from app.unavailable import install as install_unavailable
from app.web import pages
from app.web.templating import STATIC_DIR
from app.writer import make_writer

log = logging.getLogger("antrean")

DIRECTORY_SLICE = 250  # clinics read at a time


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (tickets, counters, queue, clinics, services, devices, users, auth, reports):
        router.include_router(module.router)
    router.include_router(bpjs.router)
    router.include_router(bpjs_outbox.router)
    return router


def put_busiest_first(app: FastAPI) -> None:
    """Requests are matched against the routes in order, through every included router, at
    a cost per route (with this FastAPI, tens of microseconds by the time a request reaches
    the routers at the end): the busiest routes (taking a ticket, calling the next) are
    declared with their whole path and come before all others. No two routes' paths
    overlap, so the order changes nothing else."""
    app.router.routes[0:0] = [*tickets.busiest.routes, *counters.busiest.routes]


def forget_changed(notice: dict[str, Any], accounts: Accounts, setups: Setups) -> None:
    """A commit in another process changed sign-ins or a clinic's setup."""
    if notice.get("type") == CLINIC_CHANGED:
        setups.forget([notice["clinic_id"]])
    else:
        accounts.forget(users=notice.get("users", ()), devices=notice.get("devices", ()))


def forget_all(accounts: Accounts, setups: Setups) -> None:
    """The Redis subscription came back: what it missed may have changed anything."""
    accounts.forget_all()
    setups.forget_all()


async def load_directory(accounts: Accounts, setups: Setups, *, spread: float = 0) -> None:
    """The whole directory, a slice of clinics at a time (six queries a slice): at start, so
    that a morning's first requests, in every clinic at once, wait for no read; then again
    and again with the slices `spread` over that many seconds, so that renewing ten thousand
    clinics is a trickle beside the requests, not a burst that stalls them (measured: a burst
    every two minutes put the p99 above a second)."""
    last = await asyncio.to_thread(setups.last_id)
    slices = range(1, last + 1, DIRECTORY_SLICE)
    for first in slices:
        end = first + DIRECTORY_SLICE - 1
        await asyncio.to_thread(setups.preload, first, end)
        await asyncio.to_thread(accounts.preload, first, end)
        if spread:
            await asyncio.sleep(spread / len(slices))


async def reload_directory_forever(accounts: Accounts, setups: Setups) -> None:
    while True:
        try:
            await load_directory(accounts, setups, spread=RELOAD_SECONDS)
        except Exception:  # the database away for a moment: entries are read one by one
            log.exception("reading the directory failed")
            await asyncio.sleep(RELOAD_SECONDS)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock = system_clock,
    bpjs_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`bpjs_transport`: where the calls to BPJS (the outbox's, the reference lists') go
    instead of the network (tests)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        app.state.engine = engine or make_engine(settings.database_url)
        if settings.run_migrations:
            upgrade_to_head(app.state.engine)
        bootstrap_admin(app.state.engine, settings.admin_username, settings.admin_password)
        if settings.public_url is None:
            log.warning(
                "ANTREAN_PUBLIC_URL is not set: QR codes on printed tickets will use the address "
                "the kiosk opened, which patients' phones may not reach"
            )
        app.state.signing_key = load_signing_key(app.state.engine, settings.secret_key)
        reads = DatabaseReads(app.state.engine)
        app.state.accounts = accounts = Accounts(app.state.engine)
        setups = Setups(app.state.engine)
        app.state.setups = setups
        await load_directory(accounts, setups)
        app.state.session_info = {SETUPS_INFO: setups, CLEARED_DAYS_INFO: {}}
        hub = Hub(
            make_backend(settings.redis_url, settings.redis_channel),
            lambda clinic_id, first, last: reads.fetch_events(clinic_id, first, last, clock()),
            reads.current_seqs,
            max_queue=settings.ws_queue_size,
            poll_seconds=settings.realtime_poll_seconds,
            ping_seconds=settings.ws_ping_seconds,
            on_notice=lambda notice: forget_changed(notice, accounts, setups),
            on_resubscribed=lambda: forget_all(accounts, setups),
        )
        await hub.start()
        app.state.reads, app.state.hub = reads, hub
        after_commit = AfterCommit(
            on_failure=lambda name: app.state.metrics.after_commit_failures.labels(name).inc()
        )
        after_commit.register("accounts", accounts.consumer(), inline=True)
        after_commit.register("setups", setups.consumer(), inline=True)
        after_commit.register("feeds", feeds_consumer(hub, setups))
        after_commit.register("metrics", app.state.metrics.consumer())
        sender = ClientSender(
            app.state.engine,
            app.state.signing_key,
            transport=bpjs_transport,
            clock=lambda: clock().timestamp(),
        )
        app.state.bpjs_sender = sender  # its clients also ask BPJS's reference lists
        app.state.bpjs_outbox = outbox = OutboxWorker(
            Delivery(app.state.engine, sender),
            clock,
            poll_seconds=settings.bpjs_outbox_poll_seconds,
        )
        after_commit.register("bpjs_outbox", outbox.consumer())
        app.state.writer = writer = make_writer(
            app.state.engine,
            after_commit,
            app.state.session_info,
            postgres_writer=settings.postgres_writer,
            postgres_writers=settings.postgres_writers,
        )
        writer.start()
        outbox.start()
        reloader = asyncio.create_task(reload_directory_forever(accounts, setups))
        sweeper = asyncio.create_task(
            sweep_forever(writer, clock, settings.sweep_seconds, settings.idempotency_hours)
        )
        # Thousands of long-lived sockets make full garbage collections long pauses in every
        # socket's feed: keep startup's objects out of them and collect the young less often.
        import os
        import sys

        if os.environ.get("SWITCH"):
            sys.setswitchinterval(float(os.environ["SWITCH"]))
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        yield
        for task in (sweeper, reloader):
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await outbox.stop()
        await sender.aclose()
        await writer.stop()
        await hub.stop()
        if own_engine:
            app.state.engine.dispose()

    app = FastAPI(
        title="Antrean",
        version="0.1.0",
        summary="Queuing for puskesmas: kiosk and phone tickets, counters, displays, reports.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.remote_rate_limit = ClientRateLimit(
        settings.remote_ticket_rate, settings.redis_url, settings.redis_channel
    )
    install_error_handlers(app)
    install_unavailable(app)
    install_metrics(app, clock)
    install_guards(app, settings)
    app.include_router(api_router())
    put_busiest_first(app)
    app.include_router(realtime_routes.router)
    app.include_router(bpjs_inbound.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    document_errors(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
