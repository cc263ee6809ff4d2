"""Services of a clinic."""

from fastapi import APIRouter, status
from sqlmodel import Session

from app.auth.access import ClinicAdminOf, ClinicAdminOfService
from app.clock import ClockDep
from app.db import SessionDep
from app.directory import services
from app.models.service import ServiceCreate, ServicePublic, ServiceUpdate
from app.queueing.localday import local_date
from app.queueing.lookup import get_clinic, get_service
from app.queueing.queries import clinic_services
from app.routers.params import IdPath
from app.writer import WriterDep

router = APIRouter(tags=["services"])


def _public(
    session: Session, clinic_id: int, service_id: int | None, clock: ClockDep
) -> ServicePublic:
    listed = clinic_services(session, get_clinic(session, clinic_id), clock())
    return next(item for item in listed if item.id == service_id)


@router.get("/clinics/{clinic_id}/services", response_model=list[ServicePublic])
def list_services(clinic_id: IdPath, session: SessionDep, clock: ClockDep) -> list[ServicePublic]:
    """The clinic's services, each with its waiting count and a new ticket's estimated wait."""
    return clinic_services(session, get_clinic(session, clinic_id), clock())


@router.post(
    "/clinics/{clinic_id}/services",
    status_code=status.HTTP_201_CREATED,
    response_model=ServicePublic,
)
def create_service(
    clinic_id: IdPath,
    data: ServiceCreate,
    session: SessionDep,
    _by: ClinicAdminOf,
    clock: ClockDep,
    writer: WriterDep,
) -> ServicePublic:
    """Add a service (admin, clinic_admin)."""
    get_clinic(session, clinic_id)

    def command(session: Session) -> ServicePublic:
        service = services.create_service(session, clinic_id, data)
        return _public(session, clinic_id, service.id, clock)

    return writer.run(command)


@router.patch("/services/{service_id}", response_model=ServicePublic)
def update_service(
    service_id: IdPath,
    patch: ServiceUpdate,
    session: SessionDep,
    _by: ClinicAdminOfService,
    clock: ClockDep,
    writer: WriterDep,
) -> ServicePublic:
    """Change a service: name, prefix, quota, target, entry or transfer-only, open or closed
    (admin, clinic_admin)."""
    clinic_id = get_service(session, service_id).clinic_id

    def command(session: Session) -> ServicePublic:
        service = get_service(session, service_id)
        today = local_date(clock(), get_clinic(session, clinic_id).timezone)
        services.update_service(session, service, patch, today=today)
        return _public(session, clinic_id, service_id, clock)

    return writer.run(command)
