"""Domain errors, each with its HTTP status, turned into `{"detail": ...}` by one handler."""

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError


class AppError(Exception):
    status_code = 400
    detail = "Bad request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.detail
        super().__init__(self.detail)


class NotFound(AppError):
    status_code = 404
    detail = "Not found"


class Unauthorized(AppError):
    status_code = 401
    detail = "Not authenticated"


class Forbidden(AppError):
    status_code = 403
    detail = "Not allowed"


class Conflict(AppError):
    status_code = 409
    detail = "Conflict"


class InvalidInput(AppError):
    status_code = 422
    detail = "Invalid input"


class RateLimited(AppError):
    status_code = 429
    detail = "Too many requests, try again later"


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    async def on_integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
        # A unique or foreign-key rule of the database refused the change: nothing was written.
        return JSONResponse({"detail": "Conflicts with existing data"}, status_code=409)

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
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
