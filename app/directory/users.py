"""Staff and admin accounts, and the first admin from the environment."""

import logging

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.auth.passwords import hash_password
from app.errors import Conflict, Forbidden, InvalidInput
from app.models import Clinic, Role, User
from app.models.user import UserCreate

log = logging.getLogger(__name__)


class UsernameTaken(Conflict):
    detail = "This username is taken"


def create_user(session: Session, data: UserCreate, *, by: User, password_hash: str) -> User:
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
