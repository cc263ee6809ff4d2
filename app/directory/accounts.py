"""Who may sign in, from memory: staff accounts and device keys, so authenticating a request
costs no query and never waits for the writer.

An entry is read from the database the first time it is asked for, then served from memory
until a commit changes it. Commits that change an account or a device say so
(`after_commit.note_account_changed`); the after-commit pipeline drops the entry in this
process before the writer answers, and the realtime backend tells the other processes (Redis)
to drop theirs. Entries also age out (`app.directory.memo`), a floor under a lost message.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.after_commit import Commit, Consumer
from app.directory.memo import Memo
from app.models import Device, DeviceKind, Role, User


@dataclass(frozen=True, slots=True)
class StaffAccount:
    id: int
    username: str
    role: Role
    clinic_id: int | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class DeviceAccount:
    id: int
    clinic_id: int
    name: str
    kind: DeviceKind
    key_digest: str
    revoked: bool


class Accounts:
    """The staff accounts and devices one process has authenticated lately."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._users = Memo(self._load_user, clock)
        self._devices = Memo(self._load_device, clock)

    def user(self, user_id: int, *, load: bool = True) -> StaffAccount | None:
        """The account (None: unknown; without `load`, None also when not in memory)."""
        return self._users.get(user_id, load=load)

    def device(self, device_id: int, *, load: bool = True) -> DeviceAccount | None:
        return self._devices.get(device_id, load=load)

    def forget(self, *, users: Iterable[int] = (), devices: Iterable[int] = ()) -> None:
        self._users.drop(users)
        self._devices.drop(devices)

    def consumer(self) -> Consumer:
        """For the after-commit pipeline, inline: forget what a commit changed before its
        writer answers, so this process never serves a sign-in its own commit revoked."""

        def consume(commit: Commit) -> None:
            self.forget(users=commit.changed_users, devices=commit.changed_devices)

        return consume

    def forget_all(self) -> None:
        """After messages may have been lost (the Redis subscription came back)."""
        self._users.clear()
        self._devices.clear()

    def preload(self, first: int, last: int) -> int:
        """Read the accounts and devices of clinics `first`..`last` at once (a morning's
        first requests then wait for no read); returns how many."""
        users, devices = self._users.generation, self._devices.generation
        with Session(self._engine) as session:
            staff = [
                _staff(user)
                for user in session.exec(
                    select(User).where(col(User.clinic_id) >= first, col(User.clinic_id) <= last)
                )
            ]
            keys = [
                _device(device)
                for device in session.exec(
                    select(Device).where(
                        col(Device.clinic_id) >= first, col(Device.clinic_id) <= last
                    )
                )
            ]
        self._users.fill_if_unchanged(users, ((a.id, a) for a in staff))
        self._devices.fill_if_unchanged(devices, ((d.id, d) for d in keys))
        return len(staff) + len(keys)

    def _load_user(self, user_id: int) -> StaffAccount | None:
        with Session(self._engine) as session:
            user = session.get(User, user_id)
            return None if user is None or user.id is None else _staff(user)

    def _load_device(self, device_id: int) -> DeviceAccount | None:
        with Session(self._engine) as session:
            device = session.get(Device, device_id)
            return None if device is None or device.id is None else _device(device)


def _staff(user: User) -> StaffAccount:
    assert user.id is not None
    return StaffAccount(
        id=user.id,
        username=user.username,
        role=user.role,
        clinic_id=user.clinic_id,
        is_active=user.is_active,
    )


def _device(device: Device) -> DeviceAccount:
    assert device.id is not None
    return DeviceAccount(
        id=device.id,
        clinic_id=device.clinic_id,
        name=device.name,
        kind=device.kind,
        key_digest=device.key_digest,
        revoked=device.revoked_at is not None,
    )
