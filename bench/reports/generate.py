"""A city-year generated through the simulator, into one or more fresh databases at once.

The city's clinics are made in each database by the directory's own functions
(app/sim/seed.py: the same ids in each), every working day of each clinic is simulated by
app/sim's engine (the queue's own state machine and priority rule), and each day is replayed
once and written to every database (app/sim/load.py), a transaction a day.
"""

import json
import time
from datetime import date

from app.db import make_engine
from app.directory.users import bootstrap_admin
from app.migrate import upgrade_to_head
from app.sim.engine import simulate_day
from app.sim.load import Loader
from app.sim.model import ClinicModel
from app.sim.record import Day, SimClinic
from app.sim.replay import replay
from app.sim.seed import build_clinic
from bench.reports.city import city
from bench.reports.load import Target, check_against_derive_legs, finish
from bench.servers import ADMIN


def generate(targets: list[Target], clinics: int, days: list[date], seed: int) -> None:
    scenario = city(clinics, seed)
    loaders: list[Loader] = []
    directory: list[SimClinic] = []
    for target in targets:
        target.meta.unlink(missing_ok=True)
        engine = make_engine(target.url)
        upgrade_to_head(engine)
        # The health office's account, which the measurements sign in with.
        bootstrap_admin(engine, *ADMIN)
        built = [build_clinic(engine, plan) for plan in scenario.clinics]
        assert not directory or built == directory, "the databases gave the clinics other ids"
        directory = built
        loaders.append(Loader(engine))
    models = [
        ClinicModel(plan, clinic) for plan, clinic in zip(scenario.clinics, directory, strict=True)
    ]
    ids = loaders[0].ids([clinic.id for clinic in directory], days)
    began = time.perf_counter()
    simulated = replayed = 0.0
    writes = [0.0 for _ in loaders]
    totals = [0, 0, 0]
    for number, visit_date in enumerate(days, start=1):
        start = time.perf_counter()
        simulated_days: list[Day] = []
        for model in models:
            day = simulate_day(model, visit_date, seed)
            if day is not None:
                simulated_days.append(day)
        simulated += time.perf_counter() - start
        start = time.perf_counter()
        rows = replay(simulated_days, ids)
        replayed += time.perf_counter() - start
        if number == 1:
            check_against_derive_legs(rows, directory)
        for index, loader in enumerate(loaders):
            start = time.perf_counter()
            loader.write(rows)
            loader.commit()
            writes[index] += time.perf_counter() - start
        totals = [totals[0] + len(rows.tickets), totals[1] + len(rows.events),
                  totals[2] + len(rows.legs)]  # fmt: skip
        if number % 25 == 0 or number == len(days):
            wrote = ", ".join(f"{t.label} {s:.0f} s" for t, s in zip(targets, writes, strict=True))
            print(
                f"  day {number}/{len(days)} {visit_date}: {totals[0]:,} tickets, "
                f"{totals[1]:,} events, {totals[2]:,} legs; {time.perf_counter() - began:.0f} s "
                f"(simulate {simulated:.0f} s, replay {replayed:.0f} s; write {wrote})",
                flush=True,
            )
    for loader, target in zip(loaders, targets, strict=True):
        loader.finish(ids)
        loader.close()
        finish(target, loader.engine)
        loader.engine.dispose()
        target.meta.write_text(
            json.dumps({"tickets": totals[0], "events": totals[1], "legs": totals[2]})
        )
    print(f"  generated in {time.perf_counter() - began:.0f} s", flush=True)
