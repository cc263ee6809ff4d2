"""Errors the queue rules raise; each carries the HTTP status it maps to."""

from app.errors import Conflict, InvalidInput, NotFound


class TicketNotFound(NotFound):
    detail = "Ticket not found"


class ServiceNotFound(NotFound):
    detail = "Service not found"


class CounterNotFound(NotFound):
    detail = "Counter not found"


class ClinicNotFound(NotFound):
    detail = "Clinic not found"


class IllegalTransition(Conflict):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"Cannot {action} a ticket that is {status}")


class ServiceClosed(Conflict):
    detail = "This service is closed today"


class TransferOnlyService(Conflict):
    detail = "This service takes patients by transfer only"


class QuotaFull(Conflict):
    detail = "Today's quota for this service is full"


class SameService(Conflict):
    detail = "The ticket is already in that service"


class ServiceOfOtherClinic(InvalidInput):
    detail = "The service does not belong to this clinic"
