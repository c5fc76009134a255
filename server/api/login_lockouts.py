"""Sign-in lockouts for administrators: which accounts and client addresses are locked out now
(server/services/login_throttle.py), and ending a lockout."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from server.api.deps import NowDep, SessionDep, require_role
from server.models import LoginThrottleRow
from server.services import login_throttle
from server.services.login_throttle import SignInLocked
from sync.lifecycle import Actor
from sync.vocabulary import Role

router = APIRouter(prefix="/auth/lockouts", tags=["auth"])

AdminOnly = Annotated[Actor, Depends(require_role(Role.ADMIN))]

# How a sign-in refused for a lockout looks in the OpenAPI document.
SIGN_IN_LOCKED_RESPONSE: dict[int | str, dict[str, object]] = {
    429: {
        "description": "Too many failed sign-ins for this account or from this address; the "
        "Retry-After header gives the seconds to wait",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {
            "application/json": {
                "example": {
                    "detail": {
                        "code": SignInLocked.code,
                        "reason": "登录失败次数过多，请 1 分钟后再试 / too many failed sign-ins: "
                        "try again in 60 s",
                    }
                }
            }
        },
    }
}


class LockoutOut(BaseModel):
    scope: Literal["account", "address"]
    key: str  # the username given (known or not), or the client address (IPv6: its /64)
    locked_until: datetime
    retry_after_s: int
    lockouts: int  # lockouts in a row: the next one lasts longer


class LockoutsOut(BaseModel):
    lockouts: list[LockoutOut]


def _out(row: LoginThrottleRow, now: datetime) -> LockoutOut:
    assert row.locked_until is not None
    return LockoutOut(
        scope="account" if row.scope == login_throttle.ACCOUNT else "address",
        key=row.key,
        locked_until=row.locked_until,
        retry_after_s=SignInLocked(row.locked_until, now).retry_after_s,
        lockouts=row.lockouts,
    )


@router.get(
    "", response_model=LockoutsOut, summary="Accounts and addresses locked out now (administrators)"
)
def list_lockouts(session: SessionDep, now: NowDep, _actor: AdminOnly) -> LockoutsOut:
    rows = login_throttle.current_lockouts(session, now)
    return LockoutsOut(lockouts=[_out(r, now) for r in rows])


@router.delete(
    "",
    status_code=204,
    response_class=Response,
    summary="End a lockout now (administrators): ?scope=account|address&key=…",
)
def clear_lockout(
    scope: Annotated[Literal["account", "address"], Query(description="account or address")],
    key: Annotated[
        str, Query(min_length=1, max_length=100, description="the username, or the address")
    ],
    session: SessionDep,
    now: NowDep,
    actor: AdminOnly,
) -> Response:
    login_throttle.clear_lockout(session, scope=scope, key=key, admin_id=actor.user_id, now=now)
    return Response(status_code=204)
