"""Health office reports: wait-times (JSON, CSV, XLSX) and the ticket log (CSV, streamed)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.auth.access import Manager, OtherClinic
from app.db import SessionDep
from app.directory.accounts import StaffAccount
from app.errors import InvalidInput
from app.models import Role
from app.models.types import MAX_ID
from app.queueing.lookup import get_clinic, get_service
from app.reports.export import as_csv, as_xlsx
from app.reports.query import GroupBy, ReportFormat, ReportQuery
from app.reports.ticket_log import ticket_log_csv
from app.reports.wait_times import FIGURES, key_names, wait_times

router = APIRouter(prefix="/reports", tags=["reports"])

_GROUP = "(" + "|".join(group.value for group in GroupBy) + ")"
GROUP_BY_PATTERN = rf"^ *{_GROUP} *(, *{_GROUP} *)*$"

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DateFrom = Annotated[date, Query(description="First local day of the period")]
DateTo = Annotated[date, Query(description="Last local day of the period (inclusive)")]
ClinicFilter = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="One clinic (a clinic admin's own by default)")
]
ServiceFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="One service")]


def _query(
    session: SessionDep,
    user: StaffAccount,
    date_from: date,
    date_to: date,
    clinic_id: int | None,
    service_id: int | None,
    group_by: str = "day",
) -> ReportQuery:
    """The report this caller may see: an admin every clinic, a clinic_admin their own."""
    if date_from > date_to:
        raise InvalidInput("date_from is after date_to")
    if service_id is not None:
        service = get_service(session, service_id)
        if clinic_id is not None and service.clinic_id != clinic_id:
            raise InvalidInput("The service is not one of this clinic's")
        clinic_id = service.clinic_id
    if user.role is Role.clinic_admin:
        if clinic_id is not None and clinic_id != user.clinic_id:
            raise OtherClinic("A clinic admin sees only their own clinic")
        clinic_id = user.clinic_id
    if clinic_id is not None:
        get_clinic(session, clinic_id)
    return ReportQuery(
        date_from=date_from,
        date_to=date_to,
        clinic_ids=None if clinic_id is None else (clinic_id,),
        service_id=service_id,
        group_by=_group_by(group_by),
    )


def _group_by(raw: str) -> tuple[GroupBy, ...]:
    """The groups in the order given, each once (the declared pattern has checked the names)."""
    return tuple(dict.fromkeys(GroupBy(part.strip()) for part in raw.split(",")))


def _filename(kind: str, query: ReportQuery, extension: str) -> str:
    return f"antrean-{kind}-{query.date_from}-{query.date_to}.{extension}"


@router.get(
    "/wait-times",
    response_model=None,
    responses={
        200: {
            "description": "The rows as JSON, or as a CSV or XLSX file (`format`)",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def read_wait_times(
    session: SessionDep,
    user: Manager,
    date_from: DateFrom,
    date_to: DateTo,
    clinic_id: ClinicFilter = None,
    service_id: ServiceFilter = None,
    group_by: Annotated[
        str,
        Query(
            max_length=64,
            pattern=GROUP_BY_PATTERN,
            description="day, hour, service, clinic, counter; or a comma-separated list "
            "(a group named twice counts once)",
        ),
    ] = "day",
    format: ReportFormat = ReportFormat.json,  # noqa: A002 (the API's name for it)
) -> dict[str, object] | Response:
    """Wait and service times per group, every figure from the legs of the period (read
    from their rollups)."""
    query = _query(session, user, date_from, date_to, clinic_id, service_id, group_by)
    rows = wait_times(session, query)
    columns = [*key_names(query.group_by), *FIGURES]
    if format is ReportFormat.csv:
        return Response(
            as_csv(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(_filename("wait-times", query, "csv")),
        )
    if format is ReportFormat.xlsx:
        return Response(
            as_xlsx(rows, columns, title="wait-times"),
            media_type=XLSX,
            headers=_attachment(_filename("wait-times", query, "xlsx")),
        )
    return {"rows": rows}


@router.get("/ticket-log", response_class=StreamingResponse)
def read_ticket_log(
    request: Request,
    session: SessionDep,
    user: Manager,
    date_from: DateFrom,
    date_to: DateTo,
    clinic_id: ClinicFilter = None,
    service_id: ServiceFilter = None,
) -> StreamingResponse:
    """Every leg of every ticket of the period with its times (CSV, streamed)."""
    query = _query(session, user, date_from, date_to, clinic_id, service_id)
    return StreamingResponse(
        ticket_log_csv(request.app.state.engine, query),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(_filename("ticket-log", query, "csv")),
    )


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
