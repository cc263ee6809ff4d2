"""Creating and changing a clinic's services."""

from datetime import date

from sqlmodel import Session, col, select

from app.after_commit import note_clinic_changed
from app.directory.patching import apply_patch
from app.errors import Conflict
from app.models import DailySequence, Service
from app.models.service import ServiceCreate, ServiceUpdate


class PrefixTaken(Conflict):
    code = "prefix_taken"
    detail = "Another service of this clinic has this prefix"


def _ensure_prefix_free(
    session: Session, clinic_id: int, prefix: str, *, except_id: int | None = None
) -> None:
    existing = session.exec(
        select(Service).where(col(Service.clinic_id) == clinic_id, col(Service.prefix) == prefix)
    ).first()
    if existing is not None and existing.id != except_id:
        raise PrefixTaken()


class BpjsPoliCodeTaken(Conflict):
    code = "bpjs_poli_code_taken"
    detail = "Another service of this clinic has this BPJS poli code"


def _ensure_poli_code_free(
    session: Session, clinic_id: int, code: str | None, *, except_id: int | None = None
) -> None:
    """Mobile JKN books by poli code: it must name one service of the clinic."""
    if code is None:
        return
    existing = session.exec(
        select(Service).where(
            col(Service.clinic_id) == clinic_id, col(Service.bpjs_poli_code) == code
        )
    ).first()
    if existing is not None and existing.id != except_id:
        raise BpjsPoliCodeTaken()


def create_service(session: Session, clinic_id: int, data: ServiceCreate) -> Service:
    _ensure_prefix_free(session, clinic_id, data.prefix)
    _ensure_poli_code_free(session, clinic_id, data.bpjs_poli_code)
    service = Service.model_validate(data, update={"clinic_id": clinic_id})
    session.add(service)
    session.flush()
    note_clinic_changed(session, clinic_id)
    return service


class PrefixInUseToday(Conflict):
    code = "prefix_in_use_today"
    detail = "This service has issued tickets today; change its prefix after closing time"


def update_service(
    session: Session, service: Service, patch: ServiceUpdate, *, today: date
) -> Service:
    if patch.prefix is not None and patch.prefix != service.prefix:
        _ensure_prefix_free(session, service.clinic_id, patch.prefix, except_id=service.id)
        # Codes are prefix + number of the day: a new prefix mid-day could repeat a code.
        if session.get(DailySequence, (service.id, today)) is not None:
            raise PrefixInUseToday()
    if "bpjs_poli_code" in patch.model_fields_set:
        _ensure_poli_code_free(
            session, service.clinic_id, patch.bpjs_poli_code, except_id=service.id
        )
    nullable = frozenset({"daily_quota", "target_wait_minutes", "bpjs_poli_code"})
    apply_patch(service, patch, nullable=nullable)
    session.add(service)
    session.flush()
    note_clinic_changed(session, service.clinic_id)
    return service
