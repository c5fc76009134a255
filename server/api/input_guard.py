"""Every request's own values checked once, before any route reads them: a text no database
can keep (control characters, NUL, a lone surrogate), an integer beyond 64 bits, a number that
is not finite, a time without a zone in a query. Each is a 422 naming the field — never a
500 from the database, on SQLite and PostgreSQL alike. The rules are ``sync/limits.py``'s (the
same ones sync push applies to every command's payload); the typed fields of the bodies add
their own limits (lengths, one line)."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from sync.errors import InvalidInput
from sync.limits import INT_RANGE, MAX_DB_INT, MIN_DB_INT, printable, text_problem, value_problem

_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
NO_ZONE = "须带时区 / must include a time zone"
_TYPED = "_yixian_typed_params"


def _kinds(annotation: Any) -> set[type]:
    """The plain types an annotation admits (``int | None`` → {int, NoneType})."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return {k for arg in typing.get_args(annotation) for k in _kinds(arg)}
    return {annotation} if isinstance(annotation, type) else set()


def _typed_params(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The names of a route's path and query parameters typed int, and those typed datetime
    (worked out once per route)."""
    found: tuple[frozenset[str], frozenset[str]] | None = getattr(route, _TYPED, None)
    if found is None:
        found = _walk(route.dependant)
        setattr(route, _TYPED, found)
    return found


def _walk(dependant: Dependant) -> tuple[frozenset[str], frozenset[str]]:
    """The names of a route's path and query parameters typed int, and those typed datetime."""
    ints: set[str] = set()
    times: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        for field in [*d.path_params, *d.query_params]:
            kinds = _kinds(field.field_info.annotation)
            if int in kinds:
                ints.add(field.alias)
            if datetime in kinds:
                times.add(field.alias)
        stack.extend(d.dependencies)
    return frozenset(ints), frozenset(times)


def _check_parameter(name: str, value: str, ints: frozenset[str], times: frozenset[str]) -> None:
    field = printable(name)
    reason = text_problem(value, multiline=False) or text_problem(name, multiline=False)
    if reason is not None:
        raise InvalidInput(field, reason)
    if name in ints and _INTEGER.match(value) and not MIN_DB_INT <= int(value) <= MAX_DB_INT:
        raise InvalidInput(field, INT_RANGE)
    if name in times:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return  # not a time at all: the route's own validation names it
        if moment.tzinfo is None:
            raise InvalidInput(field, NO_ZONE)


F = TypeVar("F", bound=Callable[..., Any])
_PER_COMMAND = "_yixian_checks_per_command"


def checks_each_command(endpoint: F) -> F:
    """Mark an endpoint whose body is a batch of commands, each checked on its own (sync push):
    one bad value refuses its command, never the whole request."""
    setattr(endpoint, _PER_COMMAND, True)
    return endpoint


async def refuse_unstorable_input(request: Request) -> None:
    """An application-wide dependency: path, query and JSON body checked before the route."""
    route = request.scope.get("route")
    ints, times = (
        _typed_params(route) if isinstance(route, APIRoute) else (frozenset(), frozenset())
    )
    for name, value in request.path_params.items():
        _check_parameter(name, str(value), ints, times)
    for name, value in request.query_params.multi_items():
        _check_parameter(name, value, ints, times)
    if "json" not in request.headers.get("content-type", ""):
        return
    if isinstance(route, APIRoute) and getattr(route.endpoint, _PER_COMMAND, False):
        return
    body = await request.body()
    if not body:
        return
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: the route's validation answers it
    found = value_problem(data)
    if found is not None:
        raise InvalidInput(*found)
