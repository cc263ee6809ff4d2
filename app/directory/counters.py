"""Creating and changing counters and the services they call from."""

from sqlmodel import Session, col, delete, select

from app.after_commit import note_clinic_changed
from app.directory.patching import apply_patch
from app.errors import Conflict, InvalidInput
from app.models import Counter, CounterService, Service
from app.models.counter import CounterCreate, CounterPublic, CounterUpdate
from app.queueing.errors import ServiceOfOtherClinic


class CounterNameTaken(Conflict):
    code = "counter_name_taken"
    detail = "Another counter of this clinic has this name"


def _ensure_name_free(
    session: Session, clinic_id: int, name: str, *, except_id: int | None = None
) -> None:
    existing = session.exec(
        select(Counter).where(col(Counter.clinic_id) == clinic_id, col(Counter.name) == name)
    ).first()
    if existing is not None and existing.id != except_id:
        raise CounterNameTaken()


def _ensure_services_of_clinic(
    session: Session, clinic_id: int, service_ids: list[int]
) -> list[int]:
    wanted = sorted(set(service_ids))
    found = session.exec(
        select(Service.id).where(col(Service.id).in_(wanted), col(Service.clinic_id) == clinic_id)
    ).all()
    if len(found) != len(wanted):
        raise ServiceOfOtherClinic("Every service must exist and belong to this clinic")
    return wanted


def _link(session: Session, counter_id: int, service_ids: list[int]) -> None:
    session.exec(delete(CounterService).where(col(CounterService.counter_id) == counter_id))
    session.add_all(CounterService(counter_id=counter_id, service_id=sid) for sid in service_ids)


def counter_public(counter: Counter, service_ids: list[int]) -> CounterPublic:
    return CounterPublic.model_validate({**counter.model_dump(), "service_ids": service_ids})


def create_counter(session: Session, clinic_id: int, data: CounterCreate) -> CounterPublic:
    _ensure_name_free(session, clinic_id, data.name)
    service_ids = _ensure_services_of_clinic(session, clinic_id, data.service_ids)
    counter = Counter(clinic_id=clinic_id, name=data.name)
    session.add(counter)
    session.flush()
    assert counter.id is not None
    _link(session, counter.id, service_ids)
    session.flush()
    note_clinic_changed(session, clinic_id)
    return counter_public(counter, service_ids)


def update_counter(session: Session, counter: Counter, patch: CounterUpdate) -> CounterPublic:
    assert counter.id is not None
    if patch.name is not None:
        _ensure_name_free(session, counter.clinic_id, patch.name, except_id=counter.id)
    service_ids = None
    if patch.service_ids is not None:
        service_ids = _ensure_services_of_clinic(session, counter.clinic_id, patch.service_ids)
    if "service_ids" in patch.model_fields_set and patch.service_ids is None:
        raise InvalidInput("service_ids cannot be null")
    apply_patch(counter, patch, exclude=frozenset({"service_ids"}))
    session.add(counter)
    if service_ids is not None:
        _link(session, counter.id, service_ids)
    session.flush()
    current = session.exec(
        select(CounterService.service_id)
        .where(col(CounterService.counter_id) == counter.id)
        .order_by(col(CounterService.service_id))
    ).all()
    note_clinic_changed(session, counter.clinic_id)
    return counter_public(counter, list(current))
