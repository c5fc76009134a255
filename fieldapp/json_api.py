"""What the online-only screens share: the JSON calls they need from ``ApiClient`` and the
decoding of its answers (an answer lacking an agreed field is a ``ServerFault``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from fieldapp.api_client import ServerFault

T = TypeVar("T")


class JsonApi(Protocol):
    """What these calls need from ``ApiClient`` (a fake in unit tests)."""

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]: ...


def decoded(what: str, build: Callable[[], T]) -> T:
    """``build()``; a ``ServerFault`` naming ``what`` if the answer lacks or garbles a field."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ServerFault(200, f"{what} answer lacks or garbles {exc}") from exc


def moment(raw: Any) -> datetime:
    """An ISO time from the server (a trailing ``Z`` accepted)."""
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def maybe_moment(raw: Any) -> datetime | None:
    return None if raw is None else moment(raw)
