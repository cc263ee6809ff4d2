"""Who may do what. Clinic isolation: outside the admin role, a user or device acts only on
its own clinic; anything else is 403."""

from app.auth.deps import Principal
from app.directory.accounts import StaffAccount
from app.errors import Forbidden, Unauthorized
from app.models import DeviceKind, Role


def require_user(principal: Principal | None) -> StaffAccount:
    if principal is None:
        raise Unauthorized()
    if principal.user is None:
        raise Forbidden("Devices cannot do this")
    return principal.user


def require_admin(principal: Principal | None) -> StaffAccount:
    user = require_user(principal)
    if user.role is not Role.admin:
        raise Forbidden("Only an admin can do this")
    return user


def require_clinic_admin(principal: Principal | None, clinic_id: int) -> StaffAccount:
    """An admin, or a clinic_admin of this clinic."""
    user = require_user(principal)
    if user.role is Role.admin:
        return user
    if user.role is Role.clinic_admin and user.clinic_id == clinic_id:
        return user
    raise Forbidden("Only an admin of this clinic can do this")


def require_staff(principal: Principal | None, clinic_id: int) -> StaffAccount:
    """An admin, or any staff account (staff or clinic_admin) of this clinic."""
    user = require_user(principal)
    if user.role is Role.admin or user.clinic_id == clinic_id:
        return user
    raise Forbidden("You are not staff of this clinic")


def is_staff_of(principal: Principal | None, clinic_id: int) -> bool:
    user = principal.user if principal else None
    return user is not None and (user.role is Role.admin or user.clinic_id == clinic_id)


def is_kiosk_of(principal: Principal | None, clinic_id: int) -> bool:
    device = principal.device if principal else None
    return device is not None and device.kind is DeviceKind.kiosk and device.clinic_id == clinic_id
