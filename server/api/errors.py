"""The one place domain errors become HTTP responses."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from server.services.auth import BadCredentials, Unauthenticated
from sync.errors import (
    DomainError,
    EditConflict,
    InvalidInput,
    NotFound,
    NotPermitted,
    RuleViolation,
)

STATUS_FOR: tuple[tuple[type[DomainError], int], ...] = (
    (BadCredentials, 401),
    (Unauthenticated, 401),
    (InvalidInput, 422),
    (NotPermitted, 403),
    (NotFound, 404),
    (RuleViolation, 409),
    (EditConflict, 409),
)


def http_status(error: DomainError) -> int:
    if error.code == "outdated_client":
        return 426
    if error.code == "retry":
        return 503
    for kind, status in STATUS_FOR:
        if isinstance(error, kind):
            return status
    return 400


def field_path(loc: Sequence[object]) -> str:
    """A request location as the service names fields: ("body", "entries", 0, "x") →
    "entries[0].x" (the same spelling ``InvalidInput`` uses)."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(status_code=http_status(exc), content={"detail": exc.as_dict()})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid"}
        return JSONResponse(
            status_code=422,
            content={
                "detail": {
                    "code": "invalid_input",
                    "field": field_path(first.get("loc", ())) or "body",
                    "reason": first.get("msg", "invalid"),
                    "errors": [
                        {"field": field_path(e.get("loc", ())), "reason": e["msg"]} for e in errors
                    ],
                }
            },
        )
