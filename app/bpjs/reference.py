"""BPJS's reference lists (polis, doctors) asked live for a clinic admin, with the clinic's
stored credentials, through the outbox's clients (app/bpjs/outbox/sender.py).

`BpjsOfClinic` is the routes' dependency: it checks the caller, reads the credentials and
answers 409 `bpjs_not_configured` before anything is sent; app/error_docs.py reads it to
document the statuses of a route that asks BPJS (409, 502, 504).
"""

from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel

from app.auth.access import ClinicAdminOf
from app.bpjs.client import BpjsClient
from app.bpjs.credentials import (
    ClearCredentials,
    CredentialsUnreadable,
    clear_credentials,
    read_settings,
)
from app.bpjs.outbox.sender import ClientSender
from app.bpjs.outcome import Delivered, Outcome, Rejected, Transient
from app.db import SessionDep
from app.errors import AppError, Conflict
from app.queueing.localday import local_date
from app.queueing.lookup import get_clinic
from app.routers.params import IdPath

T = TypeVar("T")


class BpjsNotConfigured(Conflict):
    code = "bpjs_not_configured"
    detail = "The clinic's BPJS bridge has no base URL or consumer credentials set"


class BpjsRefused(AppError):
    status_code = 502
    code = "bpjs_refused"
    detail = "BPJS refused the request"


class BpjsUnavailable(AppError):
    status_code = 502
    code = "bpjs_unavailable"
    detail = "BPJS could not be reached or answered nonsense"

    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(detail)
        if timed_out:
            self.status_code = 504


@dataclass(frozen=True)
class ClinicBpjs:
    """What asking BPJS for a clinic needs: its client and its own today."""

    client: BpjsClient
    today: date


def _bpjs_of_clinic(
    clinic_id: IdPath, _by: ClinicAdminOf, session: SessionDep, request: Request
) -> ClinicBpjs:
    """The clinic's client (a sync dependency: the database is read in the thread pool).
    The bridge need not be turned on: its poli codes are mapped before Mobile JKN books."""
    clinic = get_clinic(session, clinic_id)
    settings = read_settings(session, clinic_id)
    try:
        clear: ClearCredentials | None = (
            None if settings is None else clear_credentials(settings, request.app.state.signing_key)
        )
    except CredentialsUnreadable:
        raise BpjsNotConfigured(
            "The clinic's BPJS credentials cannot be read (the secret key changed): "
            "enter them again"
        ) from None
    if clear is None:
        raise BpjsNotConfigured()
    sender: ClientSender = request.app.state.bpjs_sender
    try:
        client = sender.client(clear)
    except httpx.InvalidURL as exc:
        raise BpjsNotConfigured(f"The clinic's BPJS address is not usable: {exc}") from None
    return ClinicBpjs(client, local_date(request.app.state.clock(), clinic.timezone))


BpjsOfClinic = Annotated[ClinicBpjs, Depends(_bpjs_of_clinic)]


def answered(outcome: Outcome[T]) -> T:
    """What BPJS answered, or the error that says why there is nothing."""
    if isinstance(outcome, Delivered):
        return outcome.value
    if isinstance(outcome, Rejected):
        if outcome.kind == "http" and outcome.code == 0:
            # Nothing was sent: the stored address is not one (app/bpjs/client.py).
            raise BpjsNotConfigured(f"The clinic's BPJS address is not usable: {outcome.message}")
        raise BpjsRefused(f"BPJS refused the request ({outcome.code}): {outcome.message}")
    assert isinstance(outcome, Transient)
    timed_out = outcome.reason == "timeout"
    raise BpjsUnavailable(f"BPJS: {outcome.detail}", timed_out=timed_out)


# --- the answers ---------------------------------------------------------------------------


class PoliRow(BaseModel):
    kodepoli: str
    namapoli: str
    kdsubspesialis: str | None = None
    nmsubspesialis: str | None = None


class PoliList(BaseModel):
    """The polis BPJS has for the clinic on the day asked."""

    rows: list[PoliRow]


class DokterRow(BaseModel):
    # BPJS sends the code as a number or as text: text here, as the booking keeps it.
    kodedokter: str
    namadokter: str
    jampraktek: str
    kapasitas: int | None = None


class DokterList(BaseModel):
    """The doctors BPJS has for the poli on the day asked, with their hours and capacity."""

    rows: list[DokterRow]


def rows_of(items: list[Any]) -> list[dict[str, Any]]:
    """The parsed reference rows (dataclasses of app/bpjs/calls.py) as the answers' rows."""
    return [
        {key: (str(value) if key == "kodedokter" else value) for key, value in asdict(item).items()}
        for item in items
    ]
