"""The clinic simulator: puskesmas days on a simulated clock, driven by the real queue rules.

`record` holds what a simulated day produces (tickets and their event log, duck-typed like the
`ticket` and `ticket_event` rows), `scenario` the JSON file that describes the clinics, and
`engine` the event loop that plays a clinic-day through app.queueing's state machine and
priority rule.
"""
