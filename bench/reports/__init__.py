"""Reports over a city-year: generate one through the simulator, then time the reports the
health office runs.

`python -m bench.reports` generates a city-year (default: 30 clinics, every working day of 2025,
about 2.5 million tickets), seeded, into a fresh SQLite file and a PostgreSQL database, both
created by the real migrations: the city is a simulator scenario (`city`), its clinics' rows
are made by the directory's functions and its days simulated by app/sim's engine, replayed and
bulk-loaded by app/sim/load.py (`generate`, `load`). Then it times the reports on each
database (`measure`).

    .venv/bin/python -m bench.reports                  # --clinics 30 --days 0 (all) --db both
    .venv/bin/python -m bench.reports --keep           # reuse the generated databases
    .venv/bin/python -m bench.reports --clinics 3 --days 10 --db sqlite   # a quick look
"""
