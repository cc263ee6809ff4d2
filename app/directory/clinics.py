"""Creating and changing clinics."""

from sqlmodel import Session, col, select

from app.after_commit import note_clinic_changed
from app.directory.patching import apply_patch
from app.errors import Conflict
from app.models import Clinic
from app.models.clinic import ClinicCreate, ClinicUpdate


class ClinicCodeTaken(Conflict):
    code = "clinic_code_taken"
    detail = "A clinic with this code exists"


def _ensure_code_free(session: Session, code: str, *, except_id: int | None = None) -> None:
    existing = session.exec(select(Clinic).where(col(Clinic.code) == code)).first()
    if existing is not None and existing.id != except_id:
        raise ClinicCodeTaken()


def list_clinics(session: Session) -> list[Clinic]:
    return list(session.exec(select(Clinic).order_by(col(Clinic.id))))


def create_clinic(session: Session, data: ClinicCreate) -> Clinic:
    _ensure_code_free(session, data.code)
    clinic = Clinic.model_validate(data)
    session.add(clinic)
    session.flush()
    assert clinic.id is not None
    note_clinic_changed(session, clinic.id)
    return clinic


def update_clinic(session: Session, clinic: Clinic, patch: ClinicUpdate) -> Clinic:
    if patch.code is not None:
        _ensure_code_free(session, patch.code, except_id=clinic.id)
    apply_patch(clinic, patch, nullable=frozenset({"address", "opening_hours"}))
    session.add(clinic)
    session.flush()
    assert clinic.id is not None
    note_clinic_changed(session, clinic.id)
    return clinic
