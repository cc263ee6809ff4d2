"""Errors the queue rules raise; each carries the HTTP status it maps to."""

from app.errors import Conflict, InvalidInput, NotFound


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    detail = "Ticket not found"


class ServiceNotFound(NotFound):
    code = "service_not_found"
    detail = "Service not found"


class CounterNotFound(NotFound):
    code = "counter_not_found"
    detail = "Counter not found"


class ClinicNotFound(NotFound):
    code = "clinic_not_found"
    detail = "Clinic not found"


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"Cannot {action} a ticket that is {status}")


class ServiceClosed(Conflict):
    code = "service_closed"
    detail = "This service is closed today"


class TransferOnlyService(Conflict):
    code = "transfer_only_service"
    detail = "This service takes patients by transfer only"


class QuotaFull(Conflict):
    code = "quota_full"
    detail = "Today's quota for this service is full"


class SameService(Conflict):
    code = "same_service"
    detail = "The ticket is already in that service"


class ServiceOfOtherClinic(InvalidInput):
    code = "service_of_other_clinic"
    detail = "The service does not belong to this clinic"
