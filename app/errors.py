"""Errors, each with its HTTP status and a stable `code`, turned into
`{"detail": <human text>, "code": <stable id>}` by one set of handlers.

Clients and pages decide by `code`, never by `detail` (which may be reworded). Every code
is listed in docs/errors.md; a test holds the list and the classes here to each other.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

# Codes of errors raised by the framework rather than by an AppError.
INVALID_INPUT = "invalid_input"
STARLETTE_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """Every error's body. `detail` is for people; `code` (docs/errors.md) for programs."""

    detail: Any
    code: str


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    detail = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.detail = detail or self.detail
        self.headers = headers
        super().__init__(self.detail)


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail = "Not found"


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    detail = "Not authenticated"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    detail = "Invalid or expired credentials"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    detail = "Not allowed"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail = "Conflict"


class InvalidInput(AppError):
    status_code = 422
    code = INVALID_INPUT
    detail = "Invalid input"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    detail = "Too many requests, try again later"

    def __init__(self, retry_after_seconds: int = 60, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})
        self.retry_after_seconds = retry_after_seconds


class Unavailable(AppError):
    status_code = 503
    code = "unavailable"
    detail = "The service is briefly unavailable, try again shortly"


def error_response(
    status_code: int, detail: Any, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status_code, headers=headers)


def error_classes() -> list[type[AppError]]:
    """Every AppError class defined so far (for the catalogue's test)."""
    found: list[type[AppError]] = []
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        headers = dict(exc.headers or {})
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        return error_response(exc.status_code, exc.detail, exc.code, headers or None)

    async def on_integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
        # A unique or foreign-key rule of the database refused the change: nothing was written.
        return error_response(409, "Conflicts with existing data", "conflict")

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own handler echoes the refused input, which can itself be unencodable
        # (NaN, a lone surrogate) and turn a 422 into a 500: answer where and what, not the input.
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "loc": list(error.get("loc", ())),
                "msg": error.get("msg", ""),
                "type": error.get("type", ""),
            }
            for error in exc.errors()
        ]
        return error_response(422, jsonable_encoder(errors), INVALID_INPUT)

    async def on_http_exception(_request: Request, exc: Exception) -> JSONResponse:
        # Starlette's own refusals (no such route, wrong method, a malformed body).
        assert isinstance(exc, StarletteHTTPException)
        code = STARLETTE_CODES.get(exc.status_code, "error")
        if exc.status_code == 400:
            code = INVALID_INPUT  # FastAPI's 400s are bodies it could not decode
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, exc.detail, code, headers)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
