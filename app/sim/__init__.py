"""The clinic simulator: puskesmas days on a simulated clock, driven by the real queue rules.

`scenario` reads the JSON file that describes the clinics, `engine` plays each clinic-day
(with `arrivals`, `state`, `model` and `sampling`) through app.queueing's state machine and
priority rule, `record` holds what a day produces (tickets and their event log, duck-typed
like the `ticket` and `ticket_event` rows), `view` is what wait estimators see as it happens
and `summary` reads a day's figures back. `python -m app.sim` runs it (docs/simulator.md).
"""
