"""Health office reports: wait and service times per leg, from ticket_leg (see app/queueing/legs.py
for the one definition of a leg, its wait and its service time)."""
