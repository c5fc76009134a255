"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine

from server.api import (
    auth,
    boundary,
    cases,
    evaluation,
    hotline,
    photos,
    reference,
    unlisted,
    work_calendar,
    workflow,
)
from server.api import sync as sync_api
from server.api.errors import install_error_handlers
from server.config import Settings, settings_from_env
from server.data.wal import WalCheckpointer
from server.db import make_engine
from server.services import auth as auth_service
from server.services import workflow_hooks
from server.services.boundary_cache import ReferenceCache

API_DESCRIPTION = """
一线 Yixian: the server of the closed loop 发现 → 交办 → 处置.

Errors have one shape: `{"detail": {"code", "reason", "field"?}}` — 422 bad input (names the
field), 401 not signed in, 403 role/department may not, 404 unknown or not visible to you,
409 the rules forbid it now (the reason says which rule).
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> FastAPI:
    settings = settings or settings_from_env()
    settings.check()  # production refuses a weak secret here too
    auth_service.use_secret(settings.secret)
    engine = engine or make_engine(settings.database_url)
    workflow_hooks.register()  # the workflow's reactions to case changes (case_hooks)
    checkpointer = WalCheckpointer(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        checkpointer.start()
        try:
            yield
        finally:
            checkpointer.stop()

    app = FastAPI(
        title="一线 Yixian", version="0.1.0", description=API_DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.checkpointer = checkpointer
    app.state.clock = clock
    app.state.reference_cache = ReferenceCache()
    install_error_handlers(app)
    for module in (
        auth,
        reference,
        boundary,
        cases,
        sync_api,
        photos,
        workflow,
        evaluation,
        hotline,
        work_calendar,
        unlisted,
    ):
        app.include_router(module.router)

    @app.get("/health", tags=["meta"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
