"""Kiosk and display devices and their keys (shown once)."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.after_commit import note_account_changed
from app.auth.deps import device_key
from app.auth.secrets import digest, new_secret
from app.errors import NotFound
from app.models import Device
from app.models.device import DeviceCreate, DeviceWithKey


class DeviceNotFound(NotFound):
    code = "device_not_found"
    detail = "No device with this id"


def get_device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise DeviceNotFound()
    return device


def revoke(session: Session, device: Device, *, now: datetime) -> Device:
    """The device's key stops working, in every process at once; revoking twice keeps the
    first time."""
    if device.revoked_at is None:
        device.revoked_at = now
        session.add(device)
        session.flush()
        note_account_changed(session, device_id=device.id)
    return device


def create_device(session: Session, clinic_id: int, data: DeviceCreate) -> DeviceWithKey:
    secret = new_secret()
    device = Device(clinic_id=clinic_id, name=data.name, kind=data.kind, key_digest=digest(secret))
    session.add(device)
    session.flush()
    assert device.id is not None
    return DeviceWithKey.model_validate(
        {**device.model_dump(), "key": device_key(device.id, secret)}
    )


def rotate_key(session: Session, device: Device) -> str:
    """Give the device a new key; the old one stops working."""
    secret = new_secret()
    device.key_digest = digest(secret)
    session.add(device)
    session.flush()
    note_account_changed(session, device_id=device.id)
    assert device.id is not None
    return device_key(device.id, secret)


def list_devices(session: Session, clinic_id: int) -> list[Device]:
    return list(
        session.exec(
            select(Device).where(col(Device.clinic_id) == clinic_id).order_by(col(Device.id))
        )
    )
