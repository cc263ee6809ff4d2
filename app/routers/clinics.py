"""Clinics."""

from fastapi import APIRouter, status
from sqlmodel import Session

from app.auth.access import Admin, ClinicAdminOf
from app.db import SessionDep
from app.directory import clinics
from app.models.clinic import ClinicCreate, ClinicPublic, ClinicUpdate
from app.queueing.lookup import get_clinic
from app.routers.params import IdPath
from app.writer import WriterDep

router = APIRouter(prefix="/clinics", tags=["clinics"])


@router.get("", response_model=list[ClinicPublic])
def list_clinics(session: SessionDep) -> list[ClinicPublic]:
    """Every clinic of this deployment."""
    return [ClinicPublic.model_validate(clinic) for clinic in clinics.list_clinics(session)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ClinicPublic)
def create_clinic(data: ClinicCreate, _by: Admin, writer: WriterDep) -> ClinicPublic:
    """Add a clinic (admin)."""
    return writer.run(lambda s: ClinicPublic.model_validate(clinics.create_clinic(s, data)))


@router.get("/{clinic_id}", response_model=ClinicPublic)
def read_clinic(clinic_id: IdPath, session: SessionDep) -> ClinicPublic:
    """One clinic."""
    return ClinicPublic.model_validate(get_clinic(session, clinic_id))


@router.patch("/{clinic_id}", response_model=ClinicPublic)
def update_clinic(
    clinic_id: IdPath,
    patch: ClinicUpdate,
    session: SessionDep,
    _by: ClinicAdminOf,
    writer: WriterDep,
) -> ClinicPublic:
    """Change a clinic (admin, or the clinic's own clinic_admin)."""
    get_clinic(session, clinic_id)

    def command(session: Session) -> ClinicPublic:
        updated = clinics.update_clinic(session, get_clinic(session, clinic_id), patch)
        return ClinicPublic.model_validate(updated)

    return writer.run(command)
