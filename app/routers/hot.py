"""What the busiest routes (taking a ticket, calling the next) read from the request themselves.

FastAPI resolves every declared parameter and dependency of a route on every request, through
generic machinery: on this FastAPI the caller's dependency and a header parameter cost the
ticket route about 80 µs a request in-process, as much as the whole of a bare endpoint
(measured with the routes side by side). The busiest routes therefore declare only their path
parameter, their body and one access dependency (app/auth/access.py, which reads the caller
itself rather than through a second dependency), and read their headers here, with the same
types, the same errors (a 422 with FastAPI's `detail` list) and the same OpenAPI description,
given to the route as `openapi_extra`. Every other route declares its parameters as usual.
"""

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

# The operation's security, as FastAPI writes it for a route that depends on the caller.
BEARER: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
# The same for an operation that also serves callers without credentials (a phone taking a
# ticket): OpenAPI's empty requirement says that no credentials is an option too.
BEARER_OR_NONE: dict[str, Any] = {"security": [{"HTTPBearer": []}, {}]}


def _sent(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a header as sent: an optional header is absent or a string, never null
    (a client told it may be null sends the text "null")."""
    branches = schema.get("anyOf")
    if branches is None:
        return schema
    kept = [branch for branch in branches if branch.get("type") != "null"]
    if len(kept) == 1:
        return {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept[0]}
    return {**schema, "anyOf": kept}


class HeaderParam:
    """An optional header, validated as FastAPI validates a declared `Header(...)`."""

    def __init__(self, alias: str, annotation: Any, description: str) -> None:
        self.alias = alias
        self._lower = alias.lower()
        self._adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        self.openapi = {
            "parameters": [
                {
                    "description": description,
                    "in": "header",
                    "name": alias,
                    "required": False,
                    "schema": {
                        **_sent(self._adapter.json_schema()),
                        "description": description,
                        "title": alias,
                    },
                }
            ]
        }

    def read(self, request: Request) -> Any:
        raw = request.headers.get(self._lower)
        if raw is None:
            return None
        try:
            return self._adapter.validate_python(raw)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**error, "loc": ("header", self.alias)} for error in exc.errors()]
            ) from None


def openapi_extra(*parts: dict[str, Any]) -> dict[str, Any]:
    """The operation's extra OpenAPI, its parts' lists joined."""
    joined: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            joined[key] = joined.get(key, []) + value
    return joined
