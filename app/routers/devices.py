"""Kiosk and display devices of a clinic."""

from fastapi import APIRouter, status

from app.auth.access import ClinicAdminOf, ClinicAdminOfDevice
from app.clock import ClockDep
from app.db import SessionDep
from app.directory import devices
from app.models.device import DeviceCreate, DevicePublic, DeviceWithKey
from app.queueing.lookup import get_clinic
from app.routers.params import IdPath
from app.writer import WriterDep

router = APIRouter(tags=["devices"])


@router.post(
    "/clinics/{clinic_id}/devices",
    status_code=status.HTTP_201_CREATED,
    response_model=DeviceWithKey,
)
def create_device(
    clinic_id: IdPath,
    data: DeviceCreate,
    session: SessionDep,
    _by: ClinicAdminOf,
    writer: WriterDep,
) -> DeviceWithKey:
    """Register a kiosk or display; its key is in this response only (admin, clinic_admin)."""
    get_clinic(session, clinic_id)
    return writer.run(lambda s: devices.create_device(s, clinic_id, data))


@router.get("/clinics/{clinic_id}/devices", response_model=list[DevicePublic])
def list_devices(clinic_id: IdPath, session: SessionDep, _by: ClinicAdminOf) -> list[DevicePublic]:
    """The clinic's devices (never their keys; admin, clinic_admin)."""
    get_clinic(session, clinic_id)
    return [
        DevicePublic.model_validate(device) for device in devices.list_devices(session, clinic_id)
    ]


@router.post("/devices/{device_id}/revoke", response_model=DevicePublic)
def revoke_device(
    device_id: IdPath,
    _by: ClinicAdminOfDevice,
    writer: WriterDep,
    clock: ClockDep,
) -> DevicePublic:
    """Stop a kiosk's or display's key from working (a lost or stolen device), in every server
    process within a second. Revoking again changes nothing."""
    now = clock()
    return writer.run(
        lambda s: DevicePublic.model_validate(
            devices.revoke(s, devices.get_device(s, device_id), now=now)
        )
    )
