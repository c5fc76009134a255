"""The OpenAPI page documents the whole API: every route is listed, and every JSON request body
carries an example that the API itself would accept."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

import server.api
from server.app import create_app
from server.config import Settings

# The routes of the foundation, written out by hand (docs/domain.md's closed loop over HTTP).
FOUNDATION_ROUTES = {
    ("POST", "/auth/login"),
    ("GET", "/auth/me"),
    ("GET", "/reference/departments"),
    ("GET", "/reference/towns"),
    ("GET", "/reference/sites"),
    ("GET", "/boundary/versions"),
    ("POST", "/boundary/versions"),
    ("GET", "/boundary/versions/{number}"),
    ("GET", "/boundary/proposal"),
    ("POST", "/cases"),
    ("GET", "/cases"),
    ("GET", "/cases/{case_id}"),
    ("POST", "/cases/{case_id}/notes"),
    *(
        ("POST", f"/cases/{{case_id}}/{action}")
        for action in (
            "assign",
            "accept",
            "return",
            "start-handling",
            "report-back",
            "close",
            "send-back",
            "reopen",
            "cancel",
            "merge",
            "suspend",
            "resume",
            "raise-dispute",
        )
    ),
    ("GET", "/health"),
}


def _app(tmp: Path) -> Any:
    # building the schema never touches the database
    settings = Settings(database_url=f"sqlite:///{tmp / 'unused.db'}", photo_dir=tmp, secret="x")
    return create_app(settings)


def _api_routes() -> list[APIRoute]:
    """Every documented route the server's modules declare (each ``server.api`` module with a
    ``router``), found without asking the OpenAPI generator."""
    routes: list[APIRoute] = []
    for info in pkgutil.iter_modules(server.api.__path__):
        module = importlib.import_module(f"server.api.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routes += [r for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
    return routes


def _operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with TestClient(_app(tmp_path_factory.mktemp("openapi"))) as client:
        r = client.get("/openapi.json")
        assert r.status_code == 200
        return dict(r.json())


def test_the_openapi_page_lists_every_route_of_the_closed_loop(spec: dict[str, Any]) -> None:
    missing = FOUNDATION_ROUTES - _operations(spec)
    assert missing == set()


def test_the_openapi_page_lists_every_route_the_server_modules_declare(
    spec: dict[str, Any],
) -> None:
    declared = {(m, r.path) for r in _api_routes() for m in r.methods or () if m != "HEAD"}
    assert declared  # the discovery found the routers
    assert declared - _operations(spec) == set(), "a router is declared but not mounted"


def _json_bodies() -> list[tuple[str, str, str, type[BaseModel]]]:
    """(name, method, path, model) of every route whose body is a JSON model (a file upload's
    multipart form has no JSON example to give)."""
    out: list[tuple[str, str, str, type[BaseModel]]] = []
    for route in _api_routes():
        field = route.body_field
        if field is None:
            continue
        model = field.field_info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        if any(
            type(p.field_info).__name__ in ("Form", "File") for p in route.dependant.body_params
        ):
            continue
        for method in sorted(route.methods or ()):
            out.append((f"{method} {route.path}", method, route.path, model))
    return out


JSON_BODIES = _json_bodies()


def test_every_post_of_the_closed_loop_has_its_body_checked_below() -> None:
    described = {name for name, *_ in JSON_BODIES}
    posts = {f"{m} {p}" for m, p in FOUNDATION_ROUTES if m == "POST"}
    assert posts - described == set()


def _example_of(spec: dict[str, Any], method: str, path: str, model: type[BaseModel]) -> Any:
    media = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    for where in (media, model.model_json_schema()):
        if "example" in where:
            return where["example"]
        examples = where.get("examples")
        if isinstance(examples, list) and examples:
            return examples[0]
        if isinstance(examples, dict) and examples:  # OpenAPI media examples: name → {value}
            first = next(iter(examples.values()))
            return first.get("value") if isinstance(first, dict) else first
    return None


@pytest.mark.parametrize(
    "method,path,model", [b[1:] for b in JSON_BODIES], ids=[b[0] for b in JSON_BODIES]
)
def test_every_request_body_has_an_example_the_api_accepts(
    spec: dict[str, Any], method: str, path: str, model: type[BaseModel]
) -> None:
    example = _example_of(spec, method, path, model)
    assert example is not None, f"{method} {path}: {model.__name__} has no example"
    model.model_validate(example)  # an example a client could send as it is


# --- what the document declares: the bearer scheme and the real error body ----------------------

ERROR_STATUSES = ("401", "403", "404", "409", "422")
SIGN_IN_FREE = {
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),  # the refresh token is the credential, in the body
    ("GET", "/health"),
    ("GET", "/ready"),  # for load balancers and monitoring: names checks, no data
}


def _all_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_the_bearer_scheme_is_declared_and_every_signed_in_operation_asks_for_it(
    spec: dict[str, Any],
) -> None:
    schemes = spec["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if (s["type"], s["scheme"]) == ("http", "bearer")]
    assert len(bearer) == 1  # the Authorize button on /docs
    unlocked = {
        (m, p)
        for m, p, op in _all_operations(spec)
        if {bearer[0]: []} not in op.get("security", [])
    }
    assert unlocked == SIGN_IN_FREE


def test_every_operation_documents_the_real_error_body_for_each_error_status(
    spec: dict[str, Any],
) -> None:
    undocumented = [
        f"{m} {p} {status}"
        for m, p, op in _all_operations(spec)
        if (m, p) not in {("GET", "/health")}
        for status in ERROR_STATUSES
        if op["responses"]
        .get(status, {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
        != {"$ref": "#/components/schemas/ErrorBody"}
    ]
    assert undocumented == []
    body = spec["components"]["schemas"]["ErrorBody"]
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert body["required"] == ["detail"]
    assert set(detail["required"]) == {"code", "reason"}
    assert {"code", "reason", "field", "errors"} <= set(detail["properties"])
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # never answered


def test_the_error_bodies_the_api_answers_are_the_documented_shape(tmp_path: Path) -> None:
    from server.api.openapi_doc import ErrorBody, ErrorDetail

    documented = set(ErrorDetail.model_fields)
    with TestClient(_app(tmp_path)) as client:
        answers = [
            client.get("/cases"),  # 401: no token
            client.get("/auth/me", headers={"Authorization": "Basic eDp5"}),  # 401: not bearer
            client.post("/auth/login", json={"username": 5}),  # 422
        ]
    assert [r.status_code for r in answers] == [401, 401, 422]
    for r in answers:
        assert set(r.json()["detail"]) <= documented
        ErrorBody.model_validate(r.json())


# --- the docs switch -----------------------------------------------------------------------------

DOCS = ("/docs", "/redoc", "/openapi.json")


def _docs_answers(tmp: Path, *, api_docs: bool) -> list[int]:
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'unused.db'}", photo_dir=tmp, secret="x", api_docs=api_docs
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        return [client.get(path).status_code for path in DOCS]


def test_the_api_docs_can_be_switched_off_and_the_api_still_answers(tmp_path: Path) -> None:
    assert _docs_answers(tmp_path, api_docs=True) == [200, 200, 200]
    assert _docs_answers(tmp_path, api_docs=False) == [404, 404, 404]


@pytest.mark.parametrize(
    "environment,switch,expected",
    [
        ("development", None, True),
        ("production", None, False),
        ("PRODUCTION", None, False),
        (" Production ", None, False),
        ("production", "on", True),
        ("development", "off", False),
    ],
)
def test_the_docs_are_off_in_production_unless_switched_on(
    monkeypatch: pytest.MonkeyPatch, environment: str, switch: str | None, expected: bool
) -> None:
    from server.config import settings_from_env

    monkeypatch.setenv("YIXIAN_ENV", environment)
    monkeypatch.setenv("YIXIAN_SECRET", "k3Jx9-production-secret-of-enough-length-2026")
    if switch is None:
        monkeypatch.delenv("YIXIAN_API_DOCS", raising=False)
    else:
        monkeypatch.setenv("YIXIAN_API_DOCS", switch)
    assert settings_from_env().api_docs is expected
