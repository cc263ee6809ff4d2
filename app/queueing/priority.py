"""The priority rule (pelayanan khusus, UU 25/2009 art. 29) with its bound.

A ticket's place in its service's queue is its `queue_key`: the moment it joined the queue,
moved `priority_lead_minutes` earlier for a priority ticket (lansia, ibu hamil, disabilitas,
balita). Tickets are called in queue_key order, ties by arrival. So a priority patient goes
ahead of every regular patient who arrived less than the lead before them, and the bound is
plain: a regular ticket is never passed over by a priority ticket that arrived more than
`priority_lead_minutes` after it (service setting, default 60). The order is fixed the moment a
ticket joins, so a position shown to a patient only shrinks, except by priority arrivals
within that bound.
"""

from datetime import datetime, timedelta

from app.models import Priority


def queue_key(joined_at: datetime, priority: Priority, lead_minutes: int) -> datetime:
    if priority is Priority.none:
        return joined_at
    return joined_at - timedelta(minutes=lead_minutes)
