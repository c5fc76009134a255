"""What the online-only screens share: the JSON calls they need from ``ApiClient`` and the
decoding of its answers (an answer lacking an agreed field is a ``ServerFault``)."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from fieldapp.api_client import ServerFault
from sync.limits import field_path

B = TypeVar("B", bound=BaseModel)


class JsonApi(Protocol):
    """What these calls need from ``ApiClient`` (a fake in unit tests)."""

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]: ...


def read_body(what: str, model: type[B], raw: Any) -> B:
    """``raw`` read as the server's answer ``model`` (``sync/bodies.py``); a ``ServerFault``
    naming ``what`` and the field if the answer lacks or garbles one."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ServerFault(
            200, f"{what} answer lacks or garbles {field_path(first['loc'])}: {first['msg']}"
        ) from exc
