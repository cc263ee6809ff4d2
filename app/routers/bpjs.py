"""A clinic's BPJS bridge settings, and BPJS's reference lists asked live (admin, or that
clinic's clinic admin)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import Session

from app.auth.access import ClinicAdminOf
from app.bpjs import credentials
from app.bpjs.reference import BpjsOfClinic, DokterList, PoliList, answered, rows_of
from app.clock import ClockDep
from app.db import SessionDep
from app.models.bpjs import BpjsSettingsPublic, BpjsSettingsUpdate
from app.models.service import BpjsPoliCode
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


Tanggal = Annotated[
    date | None, Query(description="The day asked about (default: today at the clinic)")
]


@router.get("/{clinic_id}/bpjs/poli", response_model=PoliList)
async def bpjs_poli(_by: ClinicAdminOf, bpjs: BpjsOfClinic, tanggal: Tanggal = None) -> PoliList:
    """The polis BPJS has for the clinic (its `ref/poli`), asked now with the clinic's stored
    credentials: the codes to map the services to."""
    found = answered(await bpjs.client.ref_poli(tanggal or bpjs.today))
    return PoliList.model_validate({"rows": rows_of(found)})


@router.get("/{clinic_id}/bpjs/dokter", response_model=DokterList)
async def bpjs_dokter(
    _by: ClinicAdminOf,
    bpjs: BpjsOfClinic,
    kodepoli: Annotated[BpjsPoliCode, Query(description="A BPJS poli code, e.g. 001")],
    tanggal: Tanggal = None,
) -> DokterList:
    """The doctors BPJS has for a poli (its `ref/dokter`), with their hours and capacity."""
    found = answered(await bpjs.client.ref_dokter(kodepoli, tanggal or bpjs.today))
    return DokterList.model_validate({"rows": rows_of(found)})
