"""Staff and admin accounts, and the first admin from the environment."""

import logging

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.after_commit import note_account_changed
from app.auth.passwords import hash_password
from app.directory.accounts import StaffAccount
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Clinic, Role, User
from app.models.user import UserCreate, UserUpdate

log = logging.getLogger(__name__)


class UsernameTaken(Conflict):
    code = "username_taken"
    detail = "This username is taken"


class UserNotFound(NotFound):
    code = "user_not_found"
    detail = "No user with this id"


class OwnAccount(Conflict):
    code = "own_account"
    detail = "You cannot disable your own account"


def create_user(
    session: Session, data: UserCreate, *, by: StaffAccount | User, password_hash: str
) -> User:
    """Create an account. A clinic_admin creates staff or clinic_admins of their own clinic."""
    if data.role is Role.admin:
        if by.role is not Role.admin:
            raise Forbidden("Only an admin can create an admin")
        if data.clinic_id is not None:
            raise InvalidInput("An admin belongs to no clinic")
    else:
        if data.clinic_id is None:
            raise InvalidInput("clinic_id is required for staff and clinic_admin")
        if by.role is not Role.admin and by.clinic_id != data.clinic_id:
            raise Forbidden("You can only create accounts for your own clinic")
        if session.get(Clinic, data.clinic_id) is None:
            raise InvalidInput("No clinic with this clinic_id")
    if session.exec(select(User).where(col(User.username) == data.username)).first() is not None:
        raise UsernameTaken()
    user = User(
        username=data.username,
        password_hash=password_hash,
        role=data.role,
        clinic_id=data.clinic_id,
    )
    session.add(user)
    session.flush()
    return user


def may_manage(by: StaffAccount, user: User) -> bool:
    """An admin manages every account; a clinic_admin those of their clinic but no admin's."""
    if by.role is Role.admin:
        return True
    return (
        by.role is Role.clinic_admin
        and user.role is not Role.admin
        and (user.clinic_id == by.clinic_id)
    )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def update_user(
    session: Session,
    user_id: int,
    patch: UserUpdate,
    *,
    by: StaffAccount,
    password_hash: str | None,
) -> User:
    """Disable or re-enable an account, or set its password. A disabled account's tokens stop
    working in every process at once (app.directory.accounts)."""
    user = get_user(session, user_id)
    if not may_manage(by, user):
        raise Forbidden("You cannot change this account")
    if patch.is_active is False and user.id == by.id:
        raise OwnAccount()
    if "is_active" in patch.model_fields_set:
        if patch.is_active is None:
            raise InvalidInput("is_active cannot be null")
        user.is_active = patch.is_active
    if "password" in patch.model_fields_set:
        if password_hash is None:
            raise InvalidInput("password cannot be null")
        user.password_hash = password_hash
    session.add(user)
    session.flush()
    note_account_changed(session, user_id=user.id)
    return user


def list_users(session: Session, *, clinic_id: int | None) -> list[User]:
    statement = select(User).order_by(col(User.id))
    if clinic_id is not None:
        statement = statement.where(col(User.clinic_id) == clinic_id)
    return list(session.exec(statement))


def bootstrap_admin(engine: Engine, username: str | None, password: str | None) -> bool:
    """On a database with no users, create the admin named by the environment."""
    if not username or not password:
        return False
    # The same rules as any account, so the admin can log in with what was configured.
    account = UserCreate(username=username, password=password, role=Role.admin)
    username = account.username
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(User)).one() > 0:
            return False
        session.add(User(username=username, password_hash=hash_password(password), role=Role.admin))
        try:
            session.commit()
        except IntegrityError:  # another process bootstrapped at the same moment
            return False
    log.info("created admin user %s", username)
    return True
