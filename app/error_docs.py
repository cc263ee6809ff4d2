"""Each operation's error answers in the OpenAPI, derived from what the route declares.

A route's error statuses follow from its declaration, not from a list kept by hand: who may
call it (the access dependency of app/auth/access.py: 401, 403, and 404 where it looks a
thing up), its path parameters (404 for an id that names nothing), its body (413 over the
size limit, 409 for a write the state refuses), its parameters (422), whether it asks BPJS
(409 without usable credentials, 502 and 504 for BPJS's refusals and silences) and the
database (503).
Every error body is `ErrorBody`; the codes are in docs/errors.md.
"""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.auth import access
from app.bpjs import reference
from app.errors import ErrorBody
from app.routers.auth import login

_ERROR = {"model": ErrorBody}
DESCRIPTIONS = {
    400: "A body that cannot be decoded (not UTF-8, not JSON): `invalid_input`",
    401: "No credentials, or wrong or expired ones",
    403: "The caller may not do this",
    404: "Nothing with this id",
    409: "The state of the queue or the directory refuses the change",
    413: "The request body is over the size limit",
    422: "Invalid input (`detail` is the list of fields and what is wrong with each)",
    429: "Too many requests: try again after `Retry-After` seconds",
    502: "BPJS refused the request (`bpjs_refused`, BPJS's message in `detail`), or could not"
    " be reached or answered nonsense (`bpjs_unavailable`)",
    503: "The database is briefly unreachable: try again after `Retry-After` seconds",
    504: "BPJS did not answer in time: `bpjs_unavailable`",
}
ASKS_BPJS_409 = "The clinic's BPJS bridge has no usable settings: `bpjs_not_configured`"

# A route that asks BPJS (its dependency reads the clinic's credentials first).
_ASKS_BPJS = {reference._bpjs_of_clinic}
# Access dependencies by the statuses beyond 401/403 that they answer themselves.
_LOOKS_UP = {
    *_ASKS_BPJS,
    access._clinic_admin_of_service,
    access._clinic_admin_of_counter,
    access._clinic_admin_of_device,
    access._at_counter,
    access._taker,
}
_RATE_LIMITED = {access._taker}
_ACCESS = {
    access._account,
    access._admin,
    access._manager,
    access._clinic_admin_of_clinic,
    access._ticket_staff,
    access._ticket_holder_or_staff,
    *_LOOKS_UP,
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def error_statuses(route: APIRoute) -> set[int]:
    calls = set(_calls(route.dependant))
    dependant = route.dependant
    methods = route.methods or set()
    statuses = {503}
    if access._caller in calls:
        statuses.add(401)
    if calls & _ACCESS:
        statuses |= {401, 403}
    names_a_thing = any(p.name.endswith("_id") for p in dependant.query_params)
    if calls & _LOOKS_UP or dependant.path_params or names_a_thing:
        statuses.add(404)
    if calls & _ASKS_BPJS:
        statuses |= {409, 502, 504}
    if calls & _RATE_LIMITED or route.endpoint is login:
        statuses |= {401, 429}
    if dependant.body_params:
        statuses.add(400)
    if methods & {"POST", "PATCH", "PUT"}:
        statuses.add(413)
        if route.endpoint is not login:
            statuses.add(409)
    if (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.body_params
        or route.openapi_extra
    ):
        statuses.add(422)
    return statuses


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every APIRoute, through included routers."""

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes)
            elif isinstance(route, APIRoute):
                yield route

    yield from walk(list(app.routes))


def document_errors(app: FastAPI) -> None:
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        asks_bpjs = bool(set(_calls(route.dependant)) & _ASKS_BPJS)
        for status in sorted(error_statuses(route)):
            documented = route.responses.setdefault(status, {})
            documented.setdefault("model", ErrorBody)
            described = ASKS_BPJS_409 if asks_bpjs and status == 409 else DESCRIPTIONS[status]
            documented.setdefault("description", described)
