"""A clinic's BPJS bridge settings (admin, or that clinic's clinic admin)."""

from fastapi import APIRouter, Request
from sqlmodel import Session

from app.auth.access import ClinicAdminOf
from app.bpjs import credentials
from app.clock import ClockDep
from app.db import SessionDep
from app.models.bpjs import BpjsSettingsPublic, BpjsSettingsUpdate
from app.queueing.lookup import get_clinic
from app.routers.params import IdPath
from app.writer import WriterDep

router = APIRouter(prefix="/clinics", tags=["bpjs"])


@router.get("/{clinic_id}/bpjs", response_model=BpjsSettingsPublic)
def read_bpjs_settings(
    clinic_id: IdPath, session: SessionDep, _by: ClinicAdminOf
) -> BpjsSettingsPublic:
    """The clinic's BPJS bridge: on or off, the BPJS address, the account BPJS signs in with,
    and whether each credential is set (never the credentials themselves)."""
    clinic = get_clinic(session, clinic_id)
    return credentials.public_settings(
        credentials.read_settings(session, clinic_id), clinic_id, clinic.code
    )


@router.put("/{clinic_id}/bpjs", response_model=BpjsSettingsPublic)
def update_bpjs_settings(
    clinic_id: IdPath,
    update: BpjsSettingsUpdate,
    session: SessionDep,
    _by: ClinicAdminOf,
    request: Request,
    clock: ClockDep,
    writer: WriterDep,
) -> BpjsSettingsPublic:
    """Set the clinic's BPJS bridge. Only the fields sent change: a credential left out keeps
    its stored value, null clears it. Credentials are kept encrypted, the password hashed."""
    code = get_clinic(session, clinic_id).code
    password_hash = credentials.hash_update_password(update)
    secret_key: str = request.app.state.signing_key

    def command(session: Session) -> BpjsSettingsPublic:
        saved = credentials.save_settings(
            session,
            clinic_id=clinic_id,
            update=update,
            password_hash=password_hash,
            secret_key=secret_key,
            now=clock(),
        )
        return credentials.public_settings(saved, clinic_id, code)

    return writer.run(command)
