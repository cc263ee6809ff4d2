"""Accounts."""

from fastapi import APIRouter, status

from app.auth import permissions
from app.auth.deps import PrincipalDep
from app.auth.passwords import hash_password
from app.db import SessionDep
from app.directory import users
from app.errors import Forbidden
from app.models import Role
from app.models.user import UserCreate, UserPublic
from app.writer import WriterDep

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_user(data: UserCreate, principal: PrincipalDep, writer: WriterDep) -> UserPublic:
    """Create a staff, clinic_admin or admin account."""
    by = permissions.require_user(principal)
    if by.role is Role.staff:
        raise Forbidden("Only admins can create accounts")
    password_hash = hash_password(data.password)  # slow on purpose: before the writer, not in it
    return writer.run(
        lambda s: UserPublic.model_validate(
            users.create_user(s, data, by=by, password_hash=password_hash)
        )
    )


@router.get("", response_model=list[UserPublic])
def list_users(session: SessionDep, principal: PrincipalDep) -> list[UserPublic]:
    """Accounts: all for an admin, their own clinic's for a clinic_admin."""
    by = permissions.require_user(principal)
    if by.role is Role.staff:
        raise Forbidden("Only admins can list accounts")
    clinic_id = None if by.role is Role.admin else by.clinic_id
    return [
        UserPublic.model_validate(user) for user in users.list_users(session, clinic_id=clinic_id)
    ]
