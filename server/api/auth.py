"""POST /auth/login."""

from __future__ import annotations

from fastapi import APIRouter, Request

from server.api.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from server.api.login_lockouts import SIGN_IN_LOCKED_RESPONSE
from server.api.schemas import LoginIn, LoginOut, UserOut
from server.services import auth as auth_service
from server.services import login_throttle

router = APIRouter(prefix="/auth", tags=["auth"])


def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.post(
    "/login",
    response_model=LoginOut,
    summary="Sign in with a password; get a token",
    responses=SIGN_IN_LOCKED_RESPONSE,
)
def login(
    body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> LoginOut:
    token, user = auth_service.login(
        session,
        username=body.username,
        password=body.password,
        # the peer's address; behind a reverse proxy, see README "Sign-in protection"
        address=login_throttle.address_key(request.client.host if request.client else None),
        now=now,
        ttl_hours=settings.token_ttl_hours,
    )
    return LoginOut(token=token, user=user_out(user))


@router.get("/me", response_model=UserOut, summary="The signed-in user")
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
