"""The one place domain errors become HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from server.services.auth import BadCredentials, Unauthenticated
from server.services.login_throttle import SignInBusy, SignInLocked
from sync.commands import reason_of
from sync.errors import (
    DomainError,
    EditConflict,
    InvalidInput,
    NotFound,
    NotPermitted,
    RuleViolation,
)
from sync.limits import field_path

STATUS_FOR: tuple[tuple[type[DomainError], int], ...] = (
    (BadCredentials, 401),
    (SignInLocked, 429),
    (SignInBusy, 429),
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        retry_after = getattr(exc, "retry_after_s", None)  # seconds, for 429 and 503
        return JSONResponse(
            status_code=http_status(exc),
            content={"detail": exc.as_dict()},
            headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
        )

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
                    "reason": reason_of(first) if errors else "invalid",
                    "errors": [
                        {"field": field_path(e.get("loc", ())), "reason": reason_of(e)}
                        for e in errors
                    ],
                }
            },
        )
