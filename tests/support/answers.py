"""What an answer says, less what differs in every answer: its request id (README "Watching
it": every error body carries the ``request_id`` of its ``X-Request-ID`` header)."""

from __future__ import annotations

import re
from typing import Any

_REQUEST_ID = re.compile(r'"request_id":"[^"]*"')


def detail_without_request_id(response: Any) -> dict[str, Any]:
    """An error answer's ``detail``, without its ``request_id``."""
    return {k: v for k, v in response.json()["detail"].items() if k != "request_id"}


def without_request_id(text: str) -> str:
    """An answer's body as text, without its ``"request_id": …`` member."""
    return _REQUEST_ID.sub("", text)
