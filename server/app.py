"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from server.api import (
    auth,
    boundary,
    cases,
    evaluation,
    hotline,
    login_lockouts,
    meta,
    photos,
    reference,
    unlisted,
    work_calendar,
    workflow,
)
from server.api import sync as sync_api
from server.api.body_limit import install_body_limit
from server.api.errors import install_error_handlers
from server.api.input_guard import refuse_unstorable_input
from server.api.openapi_doc import install_openapi
from server.api.security_headers import DOCS_PAGES, SecurityHeaders
from server.config import Settings, settings_from_env
from server.data.wal import WalCheckpointer
from server.db import PoolSize, make_engine
from server.observability.logs import RequestObserver
from server.observability.metrics import app_registry
from server.observability.readiness import Readiness
from server.services import auth as auth_service
from server.services import workflow_hooks
from server.services.boundary_cache import ReferenceCache
from server.services.compute_pool import ComputePool
from server.services.scheduler import escalation_job, last_success
from server.storage import open_stores

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
    engine = engine or make_engine(
        settings.database_url,
        PoolSize(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_s),
    )
    stores = open_stores(
        settings.storage,
        engine=engine,
        photo_dir=settings.photo_dir,
        minutes_dir=settings.minutes_path,
    )
    workflow_hooks.register()  # the workflow's reactions to case changes (case_hooks)
    checkpointer = WalCheckpointer(engine)
    compute_pool = ComputePool(
        engine, processes=settings.compute_processes, queue=settings.compute_queue
    )
    scheduler = (
        escalation_job(engine, clock, every=settings.escalate_every)
        if settings.escalate_every > 0
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        checkpointer.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            compute_pool.close()
            checkpointer.stop()

    docs = settings.api_docs  # YIXIAN_API_DOCS; off in production unless switched on
    app = FastAPI(
        title="一线 Yixian",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        dependencies=[Depends(refuse_unstorable_input)],
    )
    install_openapi(app)
    app.add_middleware(SecurityHeaders, docs_paths=DOCS_PAGES if docs else frozenset())
    app.state.settings = settings
    app.state.engine = engine
    app.state.checkpointer = checkpointer
    app.state.compute_pool = compute_pool
    app.state.clock = clock
    app.state.reference_cache = ReferenceCache()
    app.state.stores = stores  # photos and minutes (server/storage)
    app.state.scheduler = scheduler
    app.state.readiness = Readiness(
        engine,
        settings.database_url,
        settings.photo_dir,
        settings.minutes_path,
        settings.scheduler_stale_after,
        stores=stores,
    )
    app.state.metrics_registry = app_registry(engine, lambda: last_success(engine))
    install_error_handlers(app)
    install_body_limit(app)

    app.add_middleware(RequestObserver)
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
        login_lockouts,
        meta,
    ):
        app.include_router(module.router)

    @app.get("/health", tags=["meta"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
