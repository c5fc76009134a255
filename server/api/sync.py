"""Devices and the sync endpoints: POST /devices, /sync/push, /sync/pull."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from sqlalchemy.exc import OperationalError

from server.api.deps import CurrentActor, CurrentUser, NowDep, ReferenceDep, SessionDep
from server.data import sync as sync_data
from server.models import Device
from server.services import sync as sync_service
from server.services.auth import Unauthenticated
from server.services.auth import token_hash as hash_token
from sync.errors import DomainError
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


def current_device(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Device:
    token = (
        (authorization or "")[7:].strip()
        if (authorization or "").lower().startswith("bearer ")
        else ""
    )
    device = sync_data.device_by_token_hash(session, hash_token(token)) if token else None
    if device is None:
        raise Unauthenticated("设备未登记 / unknown device: sign in again", code="unknown_device")
    if device.revoked:
        raise Unauthenticated("该设备已停用 / this device was revoked", code="device_revoked")
    return device


CurrentDevice = Annotated[Device, Depends(current_device)]
Protocol = Depends(check_protocol)


@router.post(
    "/devices",
    response_model=DeviceToken,
    status_code=201,
    summary="Register this device for the signed-in user; returns its device token",
)
def register_device(
    body: DeviceRegistration, session: SessionDep, user: CurrentUser, now: NowDep
) -> DeviceToken:
    device, token = sync_service.register_device(
        session, user=user, client_id=body.client_id, name=body.name, now=now
    )
    return DeviceToken(device_id=device.id, device_token=token, last_applied=device.last_applied)


@router.post(
    "/devices/{device_id}/revoke",
    status_code=204,
    summary="Revoke a device (a lost phone is cut off at once)",
)
def revoke_device(device_id: str, session: SessionDep, actor: CurrentActor) -> None:
    sync_service.revoke_device(session, actor=actor, device_id=device_id)


@router.post(
    "/sync/push",
    response_model=PushResponse,
    dependencies=[Protocol],
    summary="Apply a batch of numbered commands once, in order, in one transaction",
)
def push(
    body: PushRequest,
    request: Request,
    session: SessionDep,
    device: CurrentDevice,
    actor: CurrentActor,
    ref: ReferenceDep,
    now: NowDep,
) -> PushResponse:
    if device.user_id != actor.user_id:
        raise Unauthenticated("设备与用户不符 / device and user differ")
    link = getattr(request.app.state, "link_photo", None)
    try:
        response = sync_service.push(
            session,
            device_id=device.id,
            actor=actor,
            commands=body.commands,
            ref=ref,
            now=now,
            link_photo=link,
        )
        session.commit()
    except OperationalError:
        session.rollback()
        raise TryAgain("服务器繁忙，稍后自动重试 / server busy: will retry") from None
    return response


@router.post(
    "/sync/pull",
    response_model=PullResponse,
    dependencies=[Protocol],
    summary="Changes since a cursor that this user may see, and command results",
)
def pull(
    body: PullRequest, session: SessionDep, device: CurrentDevice, actor: CurrentActor
) -> PullResponse:
    return sync_service.pull(
        session,
        device=device,
        actor=actor,
        cursor=body.cursor,
        results_after=body.results_after,
        limit=body.limit,
    )
