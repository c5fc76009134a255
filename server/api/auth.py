"""POST /auth/login."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from server.api.schemas import LoginIn, LoginOut, UserOut
from server.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"])


def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/login", response_model=LoginOut, summary="Sign in with a password; get a token")
def login(body: LoginIn, session: SessionDep, settings: SettingsDep, now: NowDep) -> LoginOut:
    token, user = auth_service.login(
        session,
        username=body.username,
        password=body.password,
        now=now,
        ttl_hours=settings.token_ttl_hours,
    )
    return LoginOut(token=token, user=user_out(user))


@router.get("/me", response_model=UserOut, summary="The signed-in user")
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
