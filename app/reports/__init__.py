"""Health office reports: wait and service times per leg (app/queueing/legs.py holds the one
definition of a leg, its wait and its service time), read from the leg rollups
(app/queueing/rollups.py); the ticket log reads the legs themselves."""
