"""The one place domain errors become HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.services.auth import BadCredentials, Unauthenticated
from server.services.compute_pool import ComputeBusy
from server.services.login_throttle import SignInBusy, SignInLocked
from server.storage import StoredFileDamaged
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

log = logging.getLogger("yixian.storage")

STATUS_FOR: tuple[tuple[type[DomainError], int], ...] = (
    (BadCredentials, 401),
    (SignInLocked, 429),
    (SignInBusy, 429),
    (ComputeBusy, 429),
    (Unauthenticated, 401),
    (InvalidInput, 422),
    (NotPermitted, 403),
    (NotFound, 404),
    (RuleViolation, 409),
    (EditConflict, 409),
)


RETRY_AFTER_S = 2  # what a busy server tells a client to wait before trying again
# PostgreSQL's codes for a transaction that lost a race and may simply be run again:
# serialization_failure, deadlock_detected, lock_not_available
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_transient(error: OperationalError) -> bool:
    """A deadlock or serialization failure: the transaction may be run again as it was."""
    return getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def busy(reason: str) -> JSONResponse:
    """503 with Retry-After: nothing was changed, try again shortly."""
    return JSONResponse(
        status_code=503,
        content={"detail": {"code": "retry", "reason": reason}},
        headers={"Retry-After": str(RETRY_AFTER_S)},
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
        status = http_status(exc)
        retry_after = getattr(exc, "retry_after_s", None)  # seconds, for 429 and 503
        if retry_after is None and status == 503:
            retry_after = RETRY_AFTER_S
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return JSONResponse(status_code=status, content={"detail": exc.as_dict()}, headers=headers)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        # every database connection of this process is busy: nothing was done
        return busy("服务器繁忙，请稍后重试 / server busy: try again shortly")

    @app.exception_handler(OperationalError)
    async def _database_busy(_request: Request, _exc: OperationalError) -> JSONResponse:
        # a lock wait lost (deadlock, serialization), a locked SQLite, a lost connection: the
        # transaction was rolled back whole; the same request may simply be sent again
        return busy("数据库繁忙，请稍后重试 / database busy: try again shortly")

    @app.exception_handler(StoredFileDamaged)
    async def _stored_file_damaged(_request: Request, exc: StoredFileDamaged) -> JSONResponse:
        # a stored photo or minute no longer hashes to its sha256 (docs/storage.md): said
        # plainly, never handed out damaged; restore it from a backup
        log.error("stored file damaged: %s", exc)
        return JSONResponse(
            status_code=500,
            content={
                "detail": {
                    "code": exc.code,
                    "reason": "存储的文件已损坏，请从备份恢复 / the stored file is damaged "
                    f"({exc.area}/{exc.name}): restore it from a backup",
                }
            },
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
