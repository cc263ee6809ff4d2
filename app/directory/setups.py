"""A clinic's setup from memory: the clinic, its services and its counters, for the hot paths
(taking a ticket, call-next, ticket actions, legs) so that they read none of it from the
database.

A setup is read once (three queries), then served from memory until a commit changes it:
every change to a clinic, its services or counters notes `note_clinic_changed`, and the
after-commit pipeline drops the setup in this process before the writer answers; the
`clinic.changed` message that tells the clinic's displays to reload also reaches the other
processes (Redis), which drop theirs. Entries also age out (`app.directory.memo`).

The rows in a setup are copies shared by every thread: read them, never change them or add
them to a session. Edits (PATCH) load their own rows.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.after_commit import Commit, Consumer
from app.directory.memo import Memo
from app.models import Clinic, Counter, CounterService, Service


@dataclass(frozen=True)
class ClinicSetup:
    clinic: Clinic
    services: dict[int, Service]
    counters: dict[int, Counter]
    # Per counter, the ids of the services it calls from, in id order.
    counter_services: dict[int, tuple[int, ...]]

    @property
    def clinic_id(self) -> int:
        assert self.clinic.id is not None
        return self.clinic.id

    def counters_serving(self, service_id: int) -> int:
        return sum(service_id in ids for ids in self.counter_services.values())


M = TypeVar("M", Clinic, Service, Counter)

# Where a session finds the process's setups (the writer's and the requests' sessions).
SETUPS_INFO = "antrean_setups"


def _copy(row: M) -> M:
    return type(row)(**row.model_dump())


def read_setups(session: Session, first: int, last: int) -> list[ClinicSetup]:
    """The setups of clinics `first`..`last` (ids), in four queries: a process reads the
    whole directory this way, a slice at a time (ten thousand clinics read one by one as their
    first requests come would queue those requests behind the reads)."""
    in_range = (col(Service.clinic_id) >= first, col(Service.clinic_id) <= last)
    services: dict[int, dict[int, Service]] = {}
    for service in session.exec(select(Service).where(*in_range)):
        if service.id is not None:
            services.setdefault(service.clinic_id, {})[service.id] = service
    counters: dict[int, dict[int, Counter]] = {}
    for counter in session.exec(
        select(Counter).where(col(Counter.clinic_id) >= first, col(Counter.clinic_id) <= last)
    ):
        if counter.id is not None:
            counters.setdefault(counter.clinic_id, {})[counter.id] = counter
    links: dict[int, list[int]] = {}
    for counter_id, service_id in session.exec(
        select(CounterService.counter_id, CounterService.service_id)
        .join(Counter, col(Counter.id) == col(CounterService.counter_id))
        .where(col(Counter.clinic_id) >= first, col(Counter.clinic_id) <= last)
        .order_by(col(CounterService.service_id))
    ):
        links.setdefault(counter_id, []).append(service_id)
    setups = []
    for clinic in session.exec(
        select(Clinic).where(col(Clinic.id) >= first, col(Clinic.id) <= last)
    ):
        if clinic.id is None:
            continue
        own = counters.get(clinic.id, {})
        setups.append(
            ClinicSetup(
                clinic=clinic,
                services=services.get(clinic.id, {}),
                counters=own,
                counter_services={cid: tuple(links.get(cid, ())) for cid in own},
            )
        )
    session.expunge_all()  # detached: shared by every thread, never in a session again
    return setups


def read_setup(session: Session, clinic_id: int) -> ClinicSetup | None:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        return None
    services = session.exec(select(Service).where(col(Service.clinic_id) == clinic_id))
    counters = list(session.exec(select(Counter).where(col(Counter.clinic_id) == clinic_id)))
    links = session.exec(
        select(CounterService.counter_id, CounterService.service_id)
        .join(Counter, col(Counter.id) == col(CounterService.counter_id))
        .where(col(Counter.clinic_id) == clinic_id)
        .order_by(col(CounterService.service_id))
    )
    by_counter: dict[int, list[int]] = {c.id: [] for c in counters if c.id is not None}
    for counter_id, service_id in links:
        by_counter[counter_id].append(service_id)
    return ClinicSetup(
        clinic=_copy(clinic),
        services={s.id: _copy(s) for s in services if s.id is not None},
        counters={c.id: _copy(c) for c in counters if c.id is not None},
        counter_services={cid: tuple(ids) for cid, ids in by_counter.items()},
    )


class Setups:
    """The setups of the clinics this process has served lately."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._setups = Memo(self._load, clock)
        # Counters never move between clinics: which clinic a counter belongs to is kept.
        self._clinic_of_counter: dict[int, int] = {}

    def clinic(self, clinic_id: int, *, load: bool = True) -> ClinicSetup | None:
        """The clinic's setup (None: no such clinic; without `load`, None also when it is not
        in memory)."""
        return self._setups.get(clinic_id, load=load)

    def of_counter(self, counter_id: int, *, load: bool = True) -> ClinicSetup | None:
        """The setup of the counter's clinic (None: no such counter; without `load`, None also
        when it is not in memory)."""
        clinic_id = self._clinic_of_counter.get(counter_id)
        if clinic_id is None:
            if not load:
                return None
            with Session(self._engine) as session:
                counter = session.get(Counter, counter_id)
                if counter is None:
                    return None
                clinic_id = self._clinic_of_counter[counter_id] = counter.clinic_id
        setup = self.clinic(clinic_id, load=load)
        return setup if setup is not None and counter_id in setup.counters else None

    def last_id(self) -> int:
        with Session(self._engine) as session:
            return session.exec(select(func.max(Clinic.id))).one() or 0

    def preload(self, first: int, last: int) -> int:
        """Read the setups of clinics `first`..`last` at once; returns how many."""
        generation = self._setups.generation
        with Session(self._engine) as session:
            setups = read_setups(session, first, last)
        self._setups.fill_if_unchanged(generation, ((s.clinic_id, s) for s in setups))
        for setup in setups:
            for counter_id in setup.counters:
                self._clinic_of_counter[counter_id] = setup.clinic_id
        return len(setups)

    def forget(self, clinic_ids: Iterable[int]) -> None:
        self._setups.drop(clinic_ids)

    def forget_all(self) -> None:
        self._setups.clear()

    def consumer(self) -> Consumer:
        """For the after-commit pipeline, inline: drop what a commit changed before its writer
        answers, so the next request in this process sees the change."""

        def consume(commit: Commit) -> None:
            if commit.changed_clinics:
                self.forget(commit.changed_clinics)

        return consume

    def _load(self, clinic_id: int) -> ClinicSetup | None:
        with Session(self._engine) as session:
            return read_setup(session, clinic_id)
