"""Who may call a route, declared on the route as a typed dependency.

Every API route names one of these in its signature, or none when it is open to anyone;
the handlers check nothing themselves. `tests/test_access_matrix.py` holds every route of the
app against a table of who may call it, so a route added without a row fails the tests.

Clinic isolation: outside the admin role, an account or a device acts only in its own clinic
(403 `other_clinic`). A ticket's clinic is known only once the ticket is read, inside the
writer's transaction: the ticket dependencies check the caller at once (401, 403) and return
an `Authorize` that the command applies to the ticket it reads.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Header, Query, Request, WebSocket
from sqlmodel import Session

from app.auth import secrets
from app.auth.deps import Principal, PrincipalDep, get_principal
from app.db import SessionDep
from app.directory import devices
from app.directory.accounts import StaffAccount
from app.directory.setups import ClinicSetup
from app.errors import Forbidden, Unauthorized
from app.models import Channel, DeviceKind, Role
from app.models.types import MAX_BIG_ID
from app.queueing.events import Actor
from app.queueing.lookup import (
    clinic_setup_from_memory,
    counter_setup_from_memory,
    get_counter,
    get_service,
)
from app.routers.params import IdPath, parse_id

MAX_TICKET_TOKEN_LENGTH = 128


class DeviceNotAllowed(Forbidden):
    code = "device_not_allowed"
    detail = "Devices cannot do this"


class AdminOnly(Forbidden):
    code = "admin_only"
    detail = "Only an admin can do this"


class ClinicAdminOnly(Forbidden):
    code = "clinic_admin_only"
    detail = "Only an admin or a clinic admin can do this"


class OtherClinic(Forbidden):
    code = "other_clinic"
    detail = "Not allowed in another clinic"


class RemoteTicketsOff(Forbidden):
    code = "remote_tickets_off"
    detail = "This clinic does not take tickets from phones"


class InvalidTicketToken(Unauthorized):
    code = "invalid_ticket_token"
    detail = "Wrong ticket token"


class TicketAccessRequired(Unauthorized):
    detail = "A ticket token or a staff login is required"


# --- the rules, as plain functions ---------------------------------------------------------


def account_of(principal: Principal | None) -> StaffAccount:
    """A signed-in staff account (401 without credentials, 403 for a device)."""
    if principal is None:
        raise Unauthorized()
    if principal.user is None:
        raise DeviceNotAllowed()
    return principal.user


def is_staff_of(user: StaffAccount, clinic_id: int) -> bool:
    """An admin, or any account (staff or clinic_admin) of this clinic."""
    return user.role is Role.admin or user.clinic_id == clinic_id


def require_staff_of(user: StaffAccount, clinic_id: int) -> None:
    if not is_staff_of(user, clinic_id):
        raise OtherClinic()


def require_manager(user: StaffAccount) -> None:
    """An admin or a clinic_admin (of some clinic)."""
    if user.role is Role.staff:
        raise ClinicAdminOnly()


def require_clinic_admin_of(user: StaffAccount, clinic_id: int) -> None:
    require_manager(user)
    if user.role is not Role.admin and user.clinic_id != clinic_id:
        raise OtherClinic()


def is_kiosk_of(principal: Principal | None, clinic_id: int) -> bool:
    device = principal.device if principal else None
    return device is not None and device.kind is DeviceKind.kiosk and device.clinic_id == clinic_id


# --- dependencies --------------------------------------------------------------------------


def _caller(principal: PrincipalDep) -> Principal:
    if principal is None:
        raise Unauthorized()
    return principal


def _account(principal: PrincipalDep) -> StaffAccount:
    return account_of(principal)


def _admin(principal: PrincipalDep) -> StaffAccount:
    user = account_of(principal)
    if user.role is not Role.admin:
        raise AdminOnly()
    return user


def _manager(principal: PrincipalDep) -> StaffAccount:
    user = account_of(principal)
    require_manager(user)
    return user


def _clinic_admin_of_clinic(clinic_id: IdPath, principal: PrincipalDep) -> StaffAccount:
    user = account_of(principal)
    require_clinic_admin_of(user, clinic_id)
    return user


def _managing(
    principal: Principal | None, session: Session, clinic_of: Callable[[Session], int]
) -> StaffAccount:
    """A clinic admin of the clinic that a thing belongs to (read after the caller's checks,
    so an outsider learns nothing of which ids exist)."""
    user = account_of(principal)
    require_manager(user)  # before the lookup: a staff account learns nothing of other ids
    require_clinic_admin_of(user, clinic_of(session))
    return user


def _clinic_admin_of_service(
    service_id: IdPath, principal: PrincipalDep, session: SessionDep
) -> StaffAccount:
    return _managing(principal, session, lambda s: get_service(s, service_id).clinic_id)


def _clinic_admin_of_counter(
    counter_id: IdPath, principal: PrincipalDep, session: SessionDep
) -> StaffAccount:
    return _managing(principal, session, lambda s: get_counter(s, counter_id).clinic_id)


def _clinic_admin_of_device(
    device_id: IdPath, principal: PrincipalDep, session: SessionDep
) -> StaffAccount:
    return _managing(principal, session, lambda s: devices.get_device(s, device_id).clinic_id)


# Anyone with valid credentials: a staff account or a device.
Caller = Annotated[Principal, Depends(_caller)]
# Any staff account (staff, clinic_admin, admin); no device.
SignedIn = Annotated[StaffAccount, Depends(_account)]
# The admin role.
Admin = Annotated[StaffAccount, Depends(_admin)]
# An admin or a clinic_admin; what they may touch is scoped by the handler's data.
Manager = Annotated[StaffAccount, Depends(_manager)]
# An admin, or a clinic_admin of the clinic named by the path.
ClinicAdminOf = Annotated[StaffAccount, Depends(_clinic_admin_of_clinic)]
ClinicAdminOfService = Annotated[StaffAccount, Depends(_clinic_admin_of_service)]
ClinicAdminOfCounter = Annotated[StaffAccount, Depends(_clinic_admin_of_counter)]
ClinicAdminOfDevice = Annotated[StaffAccount, Depends(_clinic_admin_of_device)]


# --- tickets and counters: the queue's routes ----------------------------------------------


class TicketLike(Protocol):
    @property
    def clinic_id(self) -> int: ...

    @property
    def token_digest(self) -> str: ...


@dataclass(frozen=True)
class TicketAccess:
    """Called with the ticket a command has read: the actor to record, or an AppError."""

    check: Callable[[TicketLike], Actor]
    clinic_id: int | None = None  # the caller's own clinic, where it has one

    def __call__(self, ticket: TicketLike) -> Actor:
        return self.check(ticket)

    def writer_key(self, ticket_id: int) -> int:
        """So that the writer batches a command with its clinic's others (app/writer.py)."""
        return self.clinic_id or ticket_id


def _ticket_staff(principal: PrincipalDep) -> TicketAccess:
    user = account_of(principal)
    assert principal is not None
    actor = principal.actor

    def staff_of_its_clinic(ticket: TicketLike) -> Actor:
        require_staff_of(user, ticket.clinic_id)
        return actor

    return TicketAccess(staff_of_its_clinic, user.clinic_id)


TokenQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_TICKET_TOKEN_LENGTH, description="The ticket's own token"),
]
TokenHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=MAX_TICKET_TOKEN_LENGTH,
        alias="X-Ticket-Token",
        description="The ticket's own token (instead of the query)",
    ),
]


def _ticket_holder_or_staff(
    principal: PrincipalDep, token: TokenQuery = None, x_ticket_token: TokenHeader = None
) -> TicketAccess:
    secret = token or x_ticket_token
    if secret is not None:

        def holder(ticket: TicketLike) -> Actor:
            if not secrets.matches(secret, ticket.token_digest):
                raise InvalidTicketToken()
            return Actor()

        return TicketAccess(holder)
    if principal is None:
        raise TicketAccessRequired()
    return _ticket_staff(principal)


# Staff of the ticket's clinic.
TicketStaff = Annotated[TicketAccess, Depends(_ticket_staff)]
# The patient holding the ticket's token, or staff of its clinic.
TicketHolderOrStaff = Annotated[TicketAccess, Depends(_ticket_holder_or_staff)]


@dataclass(frozen=True)
class AtCounter:
    """A staff account at a counter of its clinic."""

    actor: Actor
    setup: ClinicSetup


async def _at_counter(counter_id: IdPath, request: Request) -> AtCounter:
    # The principal is read here rather than declared: one dependency on the busy call-next
    # route (each declared one costs it tens of µs, app/routers/hot.py).
    principal = await get_principal(request)
    user = account_of(principal)
    assert principal is not None
    setup = await counter_setup_from_memory(request.app.state.setups, counter_id)
    require_staff_of(user, setup.clinic_id)
    return AtCounter(actor=principal.actor, setup=setup)


# Staff of the counter's clinic.
StaffAtCounter = Annotated[AtCounter, Depends(_at_counter)]


@dataclass(frozen=True)
class Taker:
    """Who takes a ticket, and through which channel."""

    principal: Principal | None
    channel: Channel
    setup: ClinicSetup
    client_address: str

    @property
    def actor(self) -> Actor:
        return self.principal.actor if self.principal else Actor()

    @property
    def scope(self) -> str:
        """Whose Idempotency-Keys these are: a device's, an account's, or one address's phones."""
        principal = self.principal
        if principal is not None and principal.device is not None:
            return f"device:{principal.device.id}"
        if principal is not None and principal.user is not None:
            return f"user:{principal.user.id}"
        return f"phone:{self.client_address}"


async def _taker(clinic_id: IdPath, request: Request) -> Taker:
    """The clinic's kiosks and staff; anyone else as a phone patient, where the clinic allows
    it, within the phone rate limit."""
    principal = await get_principal(request)
    state = request.app.state
    setup = await clinic_setup_from_memory(state.setups, clinic_id)
    client_address = request.client.host if request.client else "unknown"
    if principal is None:
        if not setup.clinic.allow_remote_tickets:
            raise RemoteTicketsOff()
        state.remote_rate_limit.hit(client_address)
        channel = Channel.phone
    elif is_kiosk_of(principal, clinic_id):
        channel = Channel.kiosk
    elif principal.user is not None and is_staff_of(principal.user, clinic_id):
        channel = Channel.staff
    elif principal.device is not None:
        raise DeviceNotAllowed("Only this clinic's kiosks can take tickets here")
    else:
        raise OtherClinic("Only this clinic's kiosks and staff can take tickets here")
    return Taker(principal, channel, setup, client_address)


# A kiosk or staff of the clinic, or a phone patient.
TicketTaker = Annotated[Taker, Depends(_taker)]


# --- the patient's WebSocket feed ----------------------------------------------------------


@dataclass(frozen=True)
class HeldTicket:
    ticket_id: int
    clinic_id: int


async def _held_ticket(websocket: WebSocket, ticket_id: str, token: str = "") -> HeldTicket | None:
    """The ticket whose own token the caller holds; None for anyone else (the feed then
    closes with 1008: a page learns why from the close code, which a refused handshake
    would not tell it)."""
    ticket = parse_id(ticket_id, MAX_BIG_ID)
    if ticket is None or not token or len(token) > MAX_TICKET_TOKEN_LENGTH:
        return None
    clinic_id = await websocket.app.state.reads.ticket_clinic(ticket, token)
    return None if clinic_id is None else HeldTicket(ticket, clinic_id)


# The patient holding the ticket's token (WebSocket).
TicketHolderFeed = Annotated[HeldTicket | None, Depends(_held_ticket)]
