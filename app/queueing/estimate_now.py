"""The service's estimate for a ticket now: the estimator (app/queueing/estimate.py) fed with
the service's day row, its counters and its usual pace (app/queueing/estimate_history.py)."""

from datetime import datetime

from sqlmodel import Session

from app.models import Clinic, Service
from app.queueing.estimate import Pace, estimated_wait_minutes
from app.queueing.estimate_history import usual_pace
from app.queueing.localday import to_local
from app.queueing.numbering import ServiceDay


def estimate_now(
    session: Session,
    *,
    clinic: Clinic,
    service: Service,
    day: ServiceDay | None,
    counters: int,
    position: int,
    now: datetime,
) -> int:
    """Whole minutes until the ticket at `position` in the service is called, as of `now`."""
    local = to_local(now, clinic.timezone)
    assert local is not None
    assert clinic.id is not None
    assert service.id is not None
    usual = usual_pace(
        session,
        clinic_id=clinic.id,
        visit_date=local.date(),
        hour=local.hour,
        service_id=service.id,
    )
    return estimated_wait_minutes(
        position,
        now=now.timestamp(),
        pace=day.pace if day is not None else Pace(),
        counters=counters,
        usual=usual,
        default_service_minutes=service.default_service_minutes,
    )
