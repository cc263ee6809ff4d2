"""Accounts."""

from fastapi import APIRouter, status

from app.auth.access import Manager
from app.auth.passwords import hash_password
from app.db import SessionDep
from app.directory import users
from app.models import Role
from app.models.user import UserCreate, UserPublic, UserUpdate
from app.routers.params import IdPath
from app.writer import WriterDep

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_user(data: UserCreate, by: Manager, writer: WriterDep) -> UserPublic:
    """Create a staff, clinic_admin or admin account (admin; a clinic_admin for their own
    clinic, never an admin)."""
    password_hash = hash_password(data.password)  # slow on purpose: before the writer, not in it
    return writer.run(
        lambda s: UserPublic.model_validate(
            users.create_user(s, data, by=by, password_hash=password_hash)
        )
    )


@router.get("", response_model=list[UserPublic])
def list_users(session: SessionDep, by: Manager) -> list[UserPublic]:
    """Accounts: all for an admin, their own clinic's for a clinic_admin."""
    clinic_id = None if by.role is Role.admin else by.clinic_id
    return [
        UserPublic.model_validate(user) for user in users.list_users(session, clinic_id=clinic_id)
    ]


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(user_id: IdPath, patch: UserUpdate, by: Manager, writer: WriterDep) -> UserPublic:
    """Disable or re-enable an account (`is_active`), or set its password. A disabled account
    can no longer log in, and its tokens are refused by every server process within a second."""
    password_hash = hash_password(patch.password) if patch.password is not None else None
    return writer.run(
        lambda s: UserPublic.model_validate(
            users.update_user(s, user_id, patch, by=by, password_hash=password_hash)
        )
    )
