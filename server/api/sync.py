"""Devices and the sync endpoints: POST /devices, /sync/push, /sync/pull."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from server.api.deps import (
    AuthorizationHeader,
    CurrentActor,
    CurrentPrincipal,
    NowDep,
    ReferenceDep,
    SessionDep,
    SettingsDep,
)
from server.api.errors import is_transient
from server.api.input_guard import checks_each_command
from server.data import sync as sync_data
from server.data.users import device_idle
from server.db import begin_read
from server.models import Device
from server.observability import metrics
from server.observability.logs import note_device
from server.services import sync as sync_service
from server.services.auth import Unauthenticated, actor_of
from server.services.auth import token_hash as hash_token
from sync.errors import DomainError
from sync.lifecycle import Actor
from sync.protocol import (
    PROTOCOL_HEADER,
    DeviceRegistration,
    DeviceToken,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    is_outdated,
)

router = APIRouter(tags=["sync"])
PUSH_ATTEMPTS = 3  # a push that lost a lock race is run again, up to this many times in all


class OutdatedClient(DomainError):
    code = "outdated_client"


class TryAgain(DomainError):
    code = "retry"


def check_protocol(
    x_yixian_protocol: Annotated[int | None, Header(alias=PROTOCOL_HEADER)] = None,
) -> None:
    if x_yixian_protocol is None or is_outdated(x_yixian_protocol):
        raise OutdatedClient(
            "应用版本过旧，请更新后再同步；未同步的数据保留在手机上 / this app is outdated: "
            "update it, then sync again — nothing on the phone is lost"
        )


@dataclass(frozen=True)
class SyncCaller:
    """A sync request's device and the user it acts for (one query, both checked)."""

    device: Device
    actor: Actor


def current_device(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    authorization: AuthorizationHeader,
) -> SyncCaller:
    token = (
        (authorization or "")[7:].strip()
        if (authorization or "").lower().startswith("bearer ")
        else ""
    )
    found = sync_data.device_and_user_by_token_hash(session, hash_token(token)) if token else None
    if found is None:
        raise Unauthenticated("设备未登记 / unknown device: sign in again", code="unknown_device")
    device, user = found
    note_device(device.id, user.id)
    if device.revoked:
        raise Unauthenticated("该设备已停用 / this device was revoked", code="device_revoked")
    if not user.active:
        raise Unauthenticated("账号已停用 / this account is disabled", code="user_inactive")
    if device_idle(device, now - timedelta(days=settings.device_idle_days)):
        raise Unauthenticated(
            "设备长期未同步，请重新登录 / this device was idle too long: sign in again",
            code="device_token_expired",
        )
    sync_service.note_device_seen(session, device, now)
    return SyncCaller(device=device, actor=actor_of(user))


CurrentDevice = Annotated[SyncCaller, Depends(current_device)]
Protocol = Depends(check_protocol)


@router.post(
    "/devices",
    response_model=DeviceToken,
    status_code=201,
    summary="Register this device for the signed-in user; returns its device token",
)
def register_device(
    body: DeviceRegistration, session: SessionDep, principal: CurrentPrincipal, now: NowDep
) -> DeviceToken:
    device, token = sync_service.register_device(
        session,
        user=principal.user,
        client_id=body.client_id,
        name=body.name,
        now=now,
        session_id=principal.session_id,
    )
    return DeviceToken(
        device_id=device.id,
        device_token=token,
        last_applied=device.last_applied,
        user_id=device.user_id,
        epoch=sync_data.epoch(session),
    )


@router.post(
    "/devices/{device_id}/revoke",
    status_code=204,
    summary="Revoke a device: its device token and every sign-in bound to it end at once",
)
def revoke_device(device_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> None:
    sync_service.revoke_device(session, actor=actor, device_id=device_id, now=now)


@router.post(
    "/devices/{device_id}/reinstate",
    status_code=204,
    summary="Let a revoked device register again (administrators)",
)
def reinstate_device(device_id: str, session: SessionDep, actor: CurrentActor) -> None:
    sync_service.reinstate_device(session, actor=actor, device_id=device_id)


@router.post(
    "/sync/push",
    response_model=PushResponse,
    dependencies=[Protocol],
    summary="Apply a batch of numbered commands once, in order, in one transaction",
)
@checks_each_command
def push(
    body: PushRequest,
    request: Request,
    session: SessionDep,
    caller: CurrentDevice,
    ref: ReferenceDep,
    now: NowDep,
) -> Response:
    link = getattr(request.app.state, "link_photo", None)
    metrics.observe_outbox(caller.device.id, body.outbox_pending)
    for attempt in range(PUSH_ATTEMPTS):
        try:
            response = sync_service.push(
                session,
                device_id=caller.device.id,
                actor=caller.actor,
                commands=body.commands,
                ref=ref,
                now=now,
                link_photo=link,
                device_time=body.device_time,
                known_epoch=body.epoch,
            )
            session.commit()
        except OperationalError as error:
            session.rollback()
            if is_transient(error) and attempt + 1 < PUSH_ATTEMPTS:
                continue  # lost a lock race (deadlock, serialization): run it again whole
            raise TryAgain("服务器繁忙，稍后自动重试 / server busy: will retry") from None
        return json_response(response)
    raise TryAgain("服务器繁忙，稍后自动重试 / server busy: will retry")


@router.post(
    "/sync/pull",
    response_model=PullResponse,
    dependencies=[Protocol],
    summary="Changes since a cursor that this user may see, and command results",
)
def pull(body: PullRequest, session: SessionDep, caller: CurrentDevice, now: NowDep) -> Response:
    if body.device_time is not None:
        sync_service.note_device_clock(session, caller.device, body.device_time, now)
    session.commit()  # the short write ends here; the page is read in a deferred transaction
    begin_read(session)
    metrics.observe_pull_page()
    return json_response(
        sync_service.pull(
            session,
            device=caller.device,
            actor=caller.actor,
            cursor=body.cursor,
            results_after=body.results_after,
            limit=body.limit,
        )
    )


def json_response(model: BaseModel) -> Response:
    """The model as JSON, serialised once (``response_model`` documents it; FastAPI would
    validate an already valid model again)."""
    return Response(content=model.model_dump_json(), media_type="application/json")
