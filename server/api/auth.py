"""Sign-in sessions: POST /auth/login, /auth/refresh, /auth/logout, /auth/password; GET /auth/me;
an administrator's POST /users/{id}/disable and /users/{id}/enable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import (
    CurrentActor,
    CurrentPrincipal,
    CurrentUser,
    NowDep,
    SessionDep,
    SettingsDep,
)
from server.api.login_lockouts import SIGN_IN_LOCKED_RESPONSE
from server.api.schemas import LoginIn, LoginOut, UserOut
from server.services import auth as auth_service
from server.services import login_throttle
from sync.passwords import MAX_PASSWORD_CHARS

router = APIRouter(tags=["auth"])

# A flood of sign-ins (wrong passwords, or locked-out keys answered 429) shares this process with
# everyone else's requests: at most SIGN_INS_AT_ONCE sign-ins are handled at once; the others
# wait their turn in the event loop — holding no thread, no connection, no CPU — for at most
# SIGN_IN_TURN_WAIT_S, then are answered 429 sign_in_busy (Retry-After 1). The password checks
# behind them are one at a time anyway (server/services/login_throttle.py).
SIGN_INS_AT_ONCE = 2
SIGN_IN_TURN_WAIT_S = 2.0


async def sign_in_turn(request: Request) -> AsyncIterator[None]:
    turns: anyio.Semaphore | None = getattr(request.app.state, "sign_in_turns", None)
    if turns is None:
        turns = request.app.state.sign_in_turns = anyio.Semaphore(SIGN_INS_AT_ONCE)
    with anyio.move_on_after(SIGN_IN_TURN_WAIT_S) as waited:
        await turns.acquire()
    if waited.cancelled_caught:
        raise login_throttle.SignInBusy(
            "登录繁忙，请稍后再试 / too many sign-ins at once: try again in a second"
        )
    try:
        yield
    finally:
        turns.release()


SignInTurn = Annotated[None, Depends(sign_in_turn)]


class RefreshIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"refresh_token": "the refresh_token of /auth/login"}}
    )
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"current_password": "yixian-demo", "new_password": "稳妥的新密码2026"}
        }
    )
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    # the policy (sync/passwords.py) answers 422 naming new_password; only the size is here
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class UserStateOut(UserOut):
    active: bool


def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def login_out(pair: auth_service.TokenPair, user: object) -> LoginOut:
    return LoginOut(
        token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=user_out(user),
    )


@router.post(
    "/auth/login",
    response_model=LoginOut,
    summary="Sign in with a password; get an access token (1 h) and a refresh token",
    responses=SIGN_IN_LOCKED_RESPONSE,
)
def login(
    _turn: SignInTurn,
    body: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> LoginOut:
    pair, user = auth_service.login(
        session,
        username=body.username,
        password=body.password,
        # the peer's address; behind a reverse proxy, see README "Sign-in protection"
        address=login_throttle.address_key(request.client.host if request.client else None),
        now=now,
        settings=settings,
    )
    return login_out(pair, user)


@router.post(
    "/auth/refresh",
    response_model=LoginOut,
    summary="Trade a refresh token (used once) for a new access and refresh token",
)
def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep, now: NowDep) -> LoginOut:
    pair = auth_service.refresh(session, token=body.refresh_token, now=now, settings=settings)
    return login_out(pair, auth_service.user_of_session(session, pair.session_id))


@router.post(
    "/auth/logout",
    status_code=204,
    summary="Sign out: this sign-in's access and refresh tokens end at once",
)
def logout(session: SessionDep, principal: CurrentPrincipal, now: NowDep) -> None:
    auth_service.logout(session, session_id=principal.session_id, now=now)


@router.post(
    "/auth/password",
    status_code=204,
    summary="Change your password (the current one is needed); your other sign-ins end",
    responses=SIGN_IN_LOCKED_RESPONSE,
)
def change_password(
    body: PasswordChangeIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> None:
    auth_service.change_password(
        session,
        principal=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        address=login_throttle.address_key(request.client.host if request.client else None),
        now=now,
    )


@router.get("/auth/me", response_model=UserOut, summary="The signed-in user")
def me(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.post(
    "/users/{user_id}/disable",
    response_model=UserStateOut,
    summary="Disable a user (administrators): every token of the user ends at once",
)
def disable_user(
    user_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> UserStateOut:
    user = auth_service.set_user_active(
        session, actor=actor, user_id=user_id, active=False, now=now
    )
    return UserStateOut.model_validate(user, from_attributes=True)


@router.post(
    "/users/{user_id}/enable",
    response_model=UserStateOut,
    summary="Enable a disabled user again (administrators); they sign in anew",
)
def enable_user(
    user_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> UserStateOut:
    user = auth_service.set_user_active(session, actor=actor, user_id=user_id, active=True, now=now)
    return UserStateOut.model_validate(user, from_attributes=True)
