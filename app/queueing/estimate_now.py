"""The service's estimate for a ticket now: the estimator (app/queueing/estimate.py) fed with
the service's day row, its counters and its history (app/queueing/estimate_history.py)."""

from datetime import datetime

from sqlmodel import Session

from app.directory.setups import ClinicSetup
from app.models import Clinic, Service
from app.queueing.estimate import Pace, estimated_wait_minutes
from app.queueing.estimate_history import history
from app.queueing.localday import to_local
from app.queueing.numbering import ServiceDay


def shared_counters(setup: ClinicSetup, service_id: int) -> float:
    """How many counters call from the service, one that also calls from other services
    counting as its share (half a counter for each of two)."""
    return sum(1 / len(ids) for ids in setup.counter_services.values() if service_id in ids)


def estimate_now(
    session: Session,
    *,
    clinic: Clinic,
    service: Service,
    day: ServiceDay | None,
    counters: float,
    position: int,
    now: datetime,
    priority: bool = False,
) -> int:
    """Whole minutes until the ticket at `position` in the service is called, as of `now`
    (`priority`: the ticket's, a regular one can be passed over)."""
    local = to_local(now, clinic.timezone)
    assert local is not None
    assert clinic.id is not None
    assert service.id is not None
    past = history(session, clinic_id=clinic.id, visit_date=local.date(), timezone=clinic.timezone)
    return estimated_wait_minutes(
        position,
        now=now.timestamp(),
        pace=day.pace if day is not None else Pace(),
        counters=counters,
        usual=past.usual.get((service.id, local.hour)),
        default_service_minutes=service.default_service_minutes,
        priority=priority,
        lead_minutes=service.priority_lead_minutes,
        opens_at=past.opens.get(service.id),
    )
