"""Watching the server: ``/ready`` (may it take traffic?) and ``/metrics`` (Prometheus).
``/health`` (the process answers) is in ``server/app.py``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from server.observability import metrics
from server.observability.readiness import Readiness

router = APIRouter(tags=["meta"])


@router.get(
    "/ready",
    summary="Readiness: database, migrations, storage, scheduler",
    responses={503: {"description": "not ready: `failing` names the failing checks"}},
)
def ready(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    checks = readiness.checks()
    failing = [name for name, check in checks.items() if not check.ok]
    body: dict[str, Any] = {
        "status": "unavailable" if failing else "ready",
        "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
    }
    if not failing:
        return JSONResponse(body)
    body["failing"] = failing
    body["detail"] = {"code": "not_ready", "reason": f"未就绪 / not ready: {', '.join(failing)}"}
    return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})


@router.get("/metrics", summary="Prometheus metrics (text format)", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    return Response(
        metrics.exposition(request.app.state.metrics_registry),
        media_type=metrics.CONTENT_TYPE_LATEST,
    )
