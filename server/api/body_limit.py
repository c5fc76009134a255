"""Request bodies are bounded: a body over its route's limit is refused with 413 before it is
read (a declared ``Content-Length``) or as soon as it passes the limit (a chunked body, counted
as it streams in), so no request can make the server hold more than its limit in memory.

The limits (README "Availability limits"):

- a JSON body: ``Settings.max_json_bytes`` (1 MiB; ``YIXIAN_MAX_JSON_BYTES``);
- a sync push: ``sync.protocol.MAX_PUSH_BYTES`` (the phone pages its outbox under it);
- a photo chunk: ``MAX_CHUNK_BYTES`` (the photo's own limit is ``Settings.max_photo_bytes``);
- a hotline import: its file limit plus room for the multipart envelope;
- a boundary-list version: ``MAX_BOUNDARY_BYTES`` (the whole list, published by an
  administrator).

The refusal has the one error shape: ``{"detail": {"code": "too_large", "field": "body",
"reason"}}`` — the code a photo over its size limit answers too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.services.hotline import MAX_FILE_BYTES as MAX_IMPORT_FILE_BYTES
from server.services.photos import MAX_CHUNK_BYTES
from sync.protocol import MAX_PUSH_BYTES

MAX_BOUNDARY_BYTES = 16 * 1024 * 1024
MULTIPART_ROOM = 64 * 1024  # the multipart envelope around an imported file


@dataclass(frozen=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    max_bytes: int


ROUTE_LIMITS: tuple[RouteLimit, ...] = (
    RouteLimit("POST", re.compile(r"^/sync/push$"), MAX_PUSH_BYTES),
    RouteLimit("PATCH", re.compile(r"^/photos/[^/]+$"), MAX_CHUNK_BYTES),
    RouteLimit(
        "POST",
        re.compile(r"^/hotline/(imports|call-backs/imports)$"),
        MAX_IMPORT_FILE_BYTES + MULTIPART_ROOM,
    ),
    RouteLimit("POST", re.compile(r"^/boundary/versions$"), MAX_BOUNDARY_BYTES),
)


def limit_for(method: str, path: str, default: int) -> int:
    """The largest body ``method path`` may send: its route's own limit, else ``default``."""
    for rule in ROUTE_LIMITS:
        if rule.method == method and rule.path.match(path):
            return rule.max_bytes
    return default


class BodyTooLarge(HTTPException):
    """Raised into the app when a streamed body passes its limit (it stops reading there)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_detail(limit))


def _detail(limit: int) -> dict[str, str]:
    return {
        "code": "too_large",
        "field": "body",
        "reason": f"请求内容不能超过 {limit} 字节 / the request body may be at most {limit} bytes",
    }


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _detail(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """ASGI middleware: ``default_limit`` (a callable, read per request, so tests and settings
    can change it) for every route without a limit of its own in ``ROUTE_LIMITS``."""

    def __init__(self, app: ASGIApp, default_limit: Callable[[], int]) -> None:
        self.app = app
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["method"], scope["path"], self.default_limit())
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)  # not one byte of the body is read
            return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to the cut-off body: ours goes instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, limit)


def install_body_limit(app: FastAPI) -> None:
    """Bound every request body of ``app`` (the JSON limit read from ``app.state.settings``)."""
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=lambda: int(app.state.settings.max_json_bytes),
    )
