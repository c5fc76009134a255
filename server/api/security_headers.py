"""Security headers on every answer (pure ASGI, so streamed photo downloads get them too).

The API answers JSON and files only: its content security policy allows nothing to run or
load. The interactive docs (``/docs``, ``/redoc``, when switched on) are pages that load
Swagger UI / ReDoc from their CDN with an inline start-up script: they alone get a policy that
allows exactly that. The field app is served by its own process and is not affected.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PAGES = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
CDN = "https://cdn.jsdelivr.net"
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (
    "default-src 'none'; "
    f"script-src 'self' 'unsafe-inline' {CDN}; "
    f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    f"img-src 'self' data: {CDN} https://fastapi.tiangolo.com; "
    "connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in self.docs_paths else API_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers[name] = value
                headers["content-security-policy"] = policy
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
