"""Dependencies that make route signatures read like prose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from server.config import Settings
from server.db import read_session
from server.models import User
from server.observability.logs import note_user
from server.services import auth as auth_service
from server.services.auth import Unauthenticated
from server.services.boundary_cache import ReferenceCache, ReferenceSnapshot
from server.storage import Stores
from sync.errors import NotPermitted
from sync.lifecycle import Actor
from sync.vocabulary import Role

READ_METHODS = frozenset({"GET", "HEAD"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's session. A GET or HEAD only reads: its transactions begin deferred, so a
    slow read never holds the SQLite write lock (server/db.py explains the two modes)."""
    engine: Engine = request.app.state.engine
    if request.method in READ_METHODS:
        with read_session(engine) as session:
            yield session
        return
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
    """The server's clock; tests replace ``app.state.clock``."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


SessionDep = Annotated[Session, Depends(get_session)]


def get_stores(request: Request) -> Stores:
    """Where photos and minutes are kept (server/storage, ``YIXIAN_STORAGE``)."""
    stores: Stores = request.app.state.stores
    return stores


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoresDep = Annotated[Stores, Depends(get_stores)]
NowDep = Annotated[datetime, Depends(get_now)]


bearer_scheme = HTTPBearer(
    auto_error=False,  # a missing token answers the project's own 401 (below)
    description="The token from `POST /auth/login` (or a device token from `POST /devices`).",
)


def authorization_header(
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> str | None:
    """The raw ``Authorization`` header; depending on ``bearer_scheme`` declares the bearer
    scheme in the OpenAPI document (the Authorize button on /docs)."""
    return request.headers.get("authorization")


AuthorizationHeader = Annotated[str | None, Depends(authorization_header)]


def get_principal(
    request: Request,
    session: SessionDep,
    now: NowDep,
    authorization: AuthorizationHeader,
) -> auth_service.Principal:
    """Who the bearer token acts for: an access token's sign-in session, or a device."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthenticated("请先登录 / sign in first")
    token = authorization[7:].strip()
    return auth_service.authenticate(session, token, now, get_settings(request))


CurrentPrincipal = Annotated[auth_service.Principal, Depends(get_principal)]


def get_current_user(principal: CurrentPrincipal) -> User:
    note_user(principal.user.id)
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_actor(user: CurrentUser) -> Actor:
    return auth_service.actor_of(user)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def get_reference(request: Request, session: SessionDep) -> ReferenceSnapshot:
    cache: ReferenceCache = request.app.state.reference_cache
    return cache.get(session)


ReferenceDep = Annotated[ReferenceSnapshot, Depends(get_reference)]


def require_role(*roles: Role) -> Callable[[Actor], Actor]:
    def _check(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise NotPermitted(
                f"需要角色 {'/'.join(r.value for r in roles)} / needs role "
                f"{' or '.join(r.value for r in roles)}",
                code="role_not_allowed",
            )
        return actor

    return _check


def utcnow() -> datetime:
    return datetime.now(UTC)
