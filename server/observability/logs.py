"""Request ids and JSON-lines logs.

``RequestObserver`` (an ASGI middleware) gives every request an id — the caller's
``X-Request-ID`` when it is sane (1–128 of ``A–Z a–z 0–9 . _ : -``), else a new one — echoes it
in the ``X-Request-ID`` response header, adds it to every JSON error body as
``detail.request_id``, writes one JSON line per request on the ``yixian.access`` logger and
feeds the request metrics (``server/observability/metrics.py``). The user and the device are
noted by the sign-in dependencies (``note_user``/``note_device``) on the request's context.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
UNMATCHED_ROUTE = "<unmatched>"  # the route label of a path no route matches
MAX_ERROR_BODY = 256 * 1024  # error bodies larger than this pass through untouched

access_log = logging.getLogger("yixian.access")
error_log = logging.getLogger("yixian.errors")


@dataclass
class RequestContext:
    request_id: str
    user_id: str | None = None
    device_id: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "yixian_request", default=None
)


def current_request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx is not None else None


def note_user(user_id: str) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.user_id = user_id


def note_device(device_id: str, user_id: str) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.device_id, ctx.user_id = device_id, user_id


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _with_request_id(body: bytes, request_id: str) -> bytes | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    detail = data.get("detail")
    if isinstance(detail, dict):
        detail["request_id"] = request_id
    elif "detail" in data:  # Starlette's own errors ({"detail": "Not Found"}) keep their shape
        data["request_id"] = request_id
    else:
        return None
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        # imported here, in the worker: a process that only configures logging (uvicorn's
        # supervisor of several workers) creates no metric files in PROMETHEUS_MULTIPROC_DIR
        from server.observability.metrics import observe_request

        self.app = app
        self._observe = observe_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = RequestContext(request_id_from(scope.get("headers", [])))
        token = _current.set(ctx)
        started = time.perf_counter()
        status = 500
        response_started = False
        held: Message | None = None  # an error's start message, held until its body is read
        chunks: list[bytes] = []
        rid_header = (b"x-request-id", ctx.request_id.encode())

        async def _send(message: Message) -> None:
            nonlocal status, response_started, held
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != rid_header[0]]
                headers.append(rid_header)
                message = {**message, "headers": headers}
                content_type = dict(headers).get(b"content-type", b"")
                if status >= 400 and content_type.startswith(b"application/json"):
                    held = message
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                size = sum(len(c) for c in chunks)
                if message.get("more_body", False) and size <= MAX_ERROR_BODY:
                    return
                body = b"".join(chunks)
                new = (
                    None
                    if message.get("more_body", False)
                    else _with_request_id(body, ctx.request_id)
                )
                start, held = held, None
                if new is not None:
                    body = new
                    start["headers"] = [
                        h for h in start["headers"] if h[0].lower() != b"content-length"
                    ] + [(b"content-length", str(len(body)).encode())]
                await send(start)
                await send(
                    {
                        "type": "http.response.body",
                        "body": body,
                        "more_body": message.get("more_body", False),
                    }
                )
                return
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            status = 500
            error_log.exception("unhandled error (request %s)", ctx.request_id)
            if not response_started:
                body = json.dumps(
                    {
                        "detail": {
                            "code": "internal_error",
                            "reason": "服务器内部错误 / internal error: quote the request id",
                            "request_id": ctx.request_id,
                        }
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            rid_header,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            self._observe(route, method, status, seconds)
            access_log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "fields": {
                        "request_id": ctx.request_id,
                        "user_id": ctx.user_id,
                        "device_id": ctx.device_id,
                        "route": route,
                        "method": method,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    }
                },
            )
            _current.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (or an access line's fields),
    the request id when the record was written during a request, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
            request_id = current_request_id()
            if request_id is not None:
                line["request_id"] = request_id
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """``logging.config.dictConfig`` (and uvicorn's ``log_config``): JSON lines on stderr for
    every logger; uvicorn's own access log is off (``yixian.access`` replaces it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "server.observability.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            # /ready reads the migration version: no "Context impl" line per probe
            "alembic.runtime.migration": {"level": "WARNING"},
        },
    }


def configure(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """JSON lines for a CLI process (the escalation job)."""
    import logging.config

    config = log_config(level)
    if stream is not None and stream is not sys.stderr:
        config["handlers"]["stderr"].pop("stream")
        config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)
