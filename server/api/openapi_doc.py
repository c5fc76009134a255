"""What the OpenAPI document declares beyond the routes: the error body every operation can
answer (401, 403, 404, 409, 422 with ``{"detail": {"code", "reason", "field"?}}``, the shape
``server/api/errors.py`` produces), and the bearer scheme (declared by ``server/api/deps.py``)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

# The operations that never answer these (a liveness probe has no input and no sign-in).
PLAIN_OPERATIONS = {("GET", "/health")}

ERROR_RESPONSES: dict[int, str] = {
    401: "Not signed in, or the token expired or was revoked (code `unauthenticated`).",
    403: "Your role or department may not do this (the reason says which).",
    404: "Unknown, or not visible to you (answers alike, so ids cannot be probed).",
    409: "The rules forbid it now (the reason names the rule), or an edit conflict.",
    422: "Bad input: `field` names the first bad field; `errors` lists each one.",
}


class FieldError(BaseModel):
    field: str = Field(description="The bad field's path, e.g. `location.lat`.")
    reason: str


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable machine code, e.g. `invalid_input`, `not_found`.")
    reason: str = Field(description="Why, in Chinese and English.")
    field: str | None = Field(
        default=None, description="The input field at fault (422; some 409s)."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Every bad field of a request that failed validation (422)."
    )
    request_id: str | None = Field(
        default=None,
        description="This request's id, as in the X-Request-ID header: quote it when reporting.",
    )


class ErrorBody(BaseModel):
    """Every error the API answers has this one shape."""

    detail: ErrorDetail


def _error_schemas() -> dict[str, Any]:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "ErrorBody": schema}


def _with_error_responses(spec: dict[str, Any]) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_error_schemas())
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if (method.upper(), path) in PLAIN_OPERATIONS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses[str(status)] = {"description": description, "content": body}
    # FastAPI's own validation error shape is never answered (errors.py replaces it)
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(spec):
            schemas.pop(unused, None)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that adds the error responses (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = _with_error_responses(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
