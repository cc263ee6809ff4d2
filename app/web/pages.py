"""The page routes: each renders a template with its clinic and its messages; the page's
JavaScript does the rest through API v1 and the realtime feeds."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app.auth import secrets
from app.db import SessionDep
from app.models import Clinic, Service, Ticket
from app.models.types import MAX_BIG_ID
from app.queueing.localday import to_local
from app.queueing.queries import ticket_view
from app.routers.params import parse_id
from app.web.i18n import LANGUAGE_COOKIE, LANGUAGES, page_messages, pick_language, translate
from app.web.qr import qr_svg
from app.web.templating import templates

router = APIRouter(include_in_schema=False)

PAPER_WIDTHS = ("58", "80")
ONE_YEAR = 365 * 24 * 3600


def _render(
    request: Request,
    template: str,
    page: str,
    *,
    status_code: int = 200,
    boot: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    language = pick_language(request)
    messages = page_messages(language, page)

    def t(key: str, **params: object) -> str:
        return translate(messages, key, **params)

    other = next(code for code in LANGUAGES if code != language)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "page": page,
            "lang": language,
            "other_lang": other,
            "lang_switch_url": _same_page(request, lang=other),
            "t": t,
            "boot": {"lang": language, "messages": messages, "api": "/api/v1", **(boot or {})},
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_page(request: Request, **params: str) -> str:
    """This page's path and query with params changed, relative (right behind any proxy)."""
    query = request.url.include_query_params(**params).query
    return f"{request.url.path}?{query}"


def _not_found(request: Request) -> HTMLResponse:
    return _render(request, "not_found.html", "common", status_code=404)


def _clinic(session: Session, raw_id: str) -> Clinic | None:
    clinic_id = parse_id(raw_id)
    return session.get(Clinic, clinic_id) if clinic_id is not None else None


def _clinic_boot(clinic: Clinic) -> dict[str, Any]:
    return {
        "clinic": {
            "id": clinic.id,
            "code": clinic.code,
            "name": clinic.name,
            "timezone": clinic.timezone,
            "allow_remote_tickets": clinic.allow_remote_tickets,
        }
    }


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    """Every clinic with the addresses of its pages."""
    clinics = session.exec(select(Clinic).order_by(col(Clinic.code))).all()
    return _render(request, "index.html", "index", clinics=clinics)


@router.get("/kiosk/{clinic_id}", response_class=HTMLResponse)
def kiosk(request: Request, clinic_id: str, session: SessionDep) -> HTMLResponse:
    clinic = _clinic(session, clinic_id)
    if clinic is None:
        return _not_found(request)
    paper = request.query_params.get("paper")
    boot = {**_clinic_boot(clinic), "paper": paper if paper in PAPER_WIDTHS else None}
    return _render(request, "kiosk.html", "kiosk", boot=boot, clinic=clinic)


@router.get("/display/{clinic_id}", response_class=HTMLResponse)
def display(request: Request, clinic_id: str, session: SessionDep) -> HTMLResponse:
    clinic = _clinic(session, clinic_id)
    if clinic is None:
        return _not_found(request)
    return _render(request, "display.html", "display", boot=_clinic_boot(clinic), clinic=clinic)


@router.get("/take/{clinic_id}", response_class=HTMLResponse)
def take_remotely(request: Request, clinic_id: str, session: SessionDep) -> HTMLResponse:
    """The phone page for taking a ticket before leaving home, where the clinic allows it."""
    clinic = _clinic(session, clinic_id)
    if clinic is None:
        return _not_found(request)
    return _render(request, "take.html", "take", boot=_clinic_boot(clinic), clinic=clinic)


@dataclass(frozen=True)
class HeldTicket:
    ticket: Ticket
    token: str


def _held_ticket(ticket_id: str, session: SessionDep, token: str = "") -> HeldTicket | None:
    """The ticket, only for the holder of its token (a wrong token looks like no ticket: the
    page answers its not-found page)."""
    parsed = parse_id(ticket_id, MAX_BIG_ID)
    ticket = session.get(Ticket, parsed) if parsed is not None else None
    if ticket is None or not token or len(token) > 128:
        return None
    return HeldTicket(ticket, token) if secrets.matches(token, ticket.token_digest) else None


# The patient holding the ticket's token; None for anyone else.
TicketHolderPage = Annotated[HeldTicket | None, Depends(_held_ticket)]


@router.get("/t/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, held: TicketHolderPage, session: SessionDep) -> HTMLResponse:
    """The patient's phone page: the ticket live over its feed, with a cancel button."""
    if held is None:
        return _not_found(request)
    ticket, token = held.ticket, held.token
    clinic = session.get(Clinic, ticket.clinic_id)
    assert clinic is not None
    boot = {
        **_clinic_boot(clinic),
        "ticket": {"id": ticket.id, "code": ticket.code, "token": token},
    }
    return _render(request, "ticket.html", "ticket", boot=boot, clinic=clinic, ticket=ticket)


def public_ticket_url(request: Request, ticket: Ticket, token: str) -> str:
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/t/{ticket.id}?token={token}"


@router.get("/t/{ticket_id}/print", response_class=HTMLResponse)
def ticket_print(request: Request, held: TicketHolderPage, session: SessionDep) -> HTMLResponse:
    """The printed ticket for 58 or 80 mm thermal paper, with a QR code to the phone page."""
    if held is None:
        return _not_found(request)
    ticket, token = held.ticket, held.token
    clinic = session.get(Clinic, ticket.clinic_id)
    service = session.get(Service, ticket.service_id)
    assert clinic is not None
    assert service is not None
    paper = request.query_params.get("paper")
    view = ticket_view(session, ticket, clinic, service)
    url = public_ticket_url(request, ticket, token)
    return _render(
        request,
        "ticket_print.html",
        "print",
        clinic=clinic,
        service=service,
        ticket=view,
        issued_local=to_local(ticket.issued_at, clinic.timezone),
        paper=paper if paper in PAPER_WIDTHS else "58",
        qr=qr_svg(url),
        ticket_url=url,
        autoprint=request.query_params.get("autoprint") == "1",
    )


@router.get("/staff", response_class=HTMLResponse)
def staff(request: Request) -> HTMLResponse:
    return _render(request, "staff.html", "staff")


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request) -> HTMLResponse:
    return _render(request, "admin.html", "admin")


@router.get("/office", response_class=HTMLResponse)
def office(request: Request) -> HTMLResponse:
    """The health office dashboard: every clinic's figures, charts and exports."""
    return _render(request, "office.html", "office")
