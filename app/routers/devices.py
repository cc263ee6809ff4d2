"""Kiosk and display devices of a clinic."""

from fastapi import APIRouter, status

from app.auth import permissions
from app.auth.deps import PrincipalDep
from app.db import SessionDep
from app.directory import devices
from app.models.device import DeviceCreate, DevicePublic, DeviceWithKey
from app.queueing.lookup import get_clinic
from app.routers.params import IdPath
from app.writer import WriterDep

router = APIRouter(prefix="/clinics/{clinic_id}/devices", tags=["devices"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DeviceWithKey)
def create_device(
    clinic_id: IdPath,
    data: DeviceCreate,
    session: SessionDep,
    principal: PrincipalDep,
    writer: WriterDep,
) -> DeviceWithKey:
    """Register a kiosk or display; its key is in this response only."""
    permissions.require_user(principal)
    get_clinic(session, clinic_id)
    permissions.require_clinic_admin(principal, clinic_id)
    return writer.run(lambda s: devices.create_device(s, clinic_id, data))


@router.get("", response_model=list[DevicePublic])
def list_devices(
    clinic_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[DevicePublic]:
    """The clinic's devices (never their keys)."""
    permissions.require_user(principal)
    get_clinic(session, clinic_id)
    permissions.require_clinic_admin(principal, clinic_id)
    return [
        DevicePublic.model_validate(device) for device in devices.list_devices(session, clinic_id)
    ]
