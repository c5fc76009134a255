"""Devices, push (apply numbered commands once, in order) and pull (changes since a cursor)."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from server.data import boundary as boundary_data
from server.data import cases as cases_data
from server.data import reference as reference_data
from server.data import sync as sync_data
from server.data import users as users_data
from server.data import work_calendar as calendar_data
from server.models import Case, CommandResultRow, Device, User
from server.observability.metrics import observe_command_results
from server.services import assisting, batch_create
from server.services import cases as case_service
from server.services import disputes as dispute_service
from server.services import photos as photo_service
from server.services.auth import token_hash, unusable_token_hash
from server.services.boundary_cache import ReferenceSnapshot
from server.services.payloads import new_case_from
from server.services.payloads import point_of as _point
from server.services.work_calendar import current_calendar
from sync.boundary_types import AssistingDuty
from sync.clock_rules import clock_offset
from sync.commands import (
    AddNote,
    CreateCase,
    EditCase,
    RateAssistTask,
    ReportAssistTask,
    TransitionCase,
    case_id_of,
    decode_command,
    decode_payload,
    unexpected_fault,
)
from sync.errors import DomainError, InvalidInput, NotFound, NotPermitted
from sync.lifecycle import Action, Actor
from sync.protocol import (
    Command,
    CommandResult,
    CommandType,
    PullResponse,
    PushResponse,
    ResultStatus,
    command_hash,
)
from sync.reference_codec import encode_calendar
from sync.visibility import OVERSIGHT_ROLES

CURSOR_PREFIX = "c1"
log = logging.getLogger(__name__)


# --- devices ---------------------------------------------------------------------------------


def register_device(
    session: Session,
    *,
    user: User,
    client_id: str,
    name: str,
    now: datetime,
    session_id: str | None = None,
) -> tuple[Device, str]:
    """A device registers against the signed-in user; its token is shown once, stored hashed.
    Registering the same client id again (a reinstalled app) replaces the token — unless the
    device was revoked: then only an administrator's reinstatement lets it register again.
    The sign-in session used (``session_id``) is bound to the device: revoking the device
    ends it."""
    token = secrets.token_urlsafe(32)
    device = sync_data.device_by_client_id(session, client_id)
    if device is not None and device.user_id != user.id:
        raise NotPermitted("该设备已登记给其他用户 / this device belongs to another user")
    if device is not None and device.revoked:
        raise NotPermitted(
            "该设备已停用，需管理员恢复后才能再登记 / this device was revoked: an administrator "
            "must reinstate it before it can register again",
            code="device_revoked",
        )
    if device is None:
        device = Device(
            id=str(uuid.uuid4()),
            client_id=client_id,
            user_id=user.id,
            name=name,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
        )
    else:
        device.token_hash = token_hash(token)
        device.last_seen_at = now
    session.add(device)
    session.flush()
    if session_id is not None:
        users_data.bind_session_to_device(session, session_id, device.id)
    session.commit()
    return device, token


def may_manage_device(device: Device, actor: Actor) -> bool:
    """A device is its user's; an administrator manages every device."""
    return device.user_id == actor.user_id or actor.role.value == "admin"


def revoke_device(session: Session, *, actor: Actor, device_id: str, now: datetime) -> Device:
    """Cut a device off: its device token and every sign-in session bound to it end at once,
    and it cannot register again until an administrator reinstates it."""
    device = sync_data.get_device(session, device_id)
    if device is None or not may_manage_device(device, actor):
        raise NotFound("设备不存在 / device not found")
    device.revoked = True
    device.token_hash = unusable_token_hash()
    session.add(device)
    users_data.end_device_sessions(session, device.id, now=now, reason="device_revoked")
    session.commit()
    return device


def reinstate_device(session: Session, *, actor: Actor, device_id: str) -> Device:
    """An administrator lets a revoked device register again (a found phone). Its old tokens
    stay ended: the user signs in on it and it registers anew."""
    if actor.role.value != "admin":
        raise NotPermitted("需要管理员 / administrators only", code="role_not_allowed")
    device = sync_data.get_device(session, device_id)
    if device is None:
        raise NotFound("设备不存在 / device not found")
    device.revoked = False
    session.add(device)
    session.commit()
    return device


# --- the device's clock ----------------------------------------------------------------------


SEEN_EVERY = timedelta(hours=12)


def note_device_seen(session: Session, device: Device, now: datetime) -> None:
    """Slide the device token's idle expiry: written at most every ``SEEN_EVERY`` (a pull
    otherwise writes nothing)."""
    if device.last_seen_at is None or now - device.last_seen_at >= SEEN_EVERY:
        device.last_seen_at = now
        session.add(device)
        session.commit()


def note_device_clock(
    session: Session, device: Device, device_time: datetime, now: datetime
) -> None:
    """Keep the latest estimate of the device's clock offset (taken at every push and pull)."""
    device.clock_offset_s = clock_offset(device_time, now)
    device.clock_checked_at = now
    session.add(device)


# --- push ------------------------------------------------------------------------------------


def _apply(
    session: Session,
    cmd: Command,
    actor: Actor,
    ref: ReferenceSnapshot,
    now: datetime,
    link_photo: Callable[..., None] | None,
    clock_offset_s: float | None = None,
) -> CommandResult:
    # the payload's shape and limits are its message's (sync/commands.py), as on REST
    p = decode_command(cmd)
    case_id = p.case_id
    if isinstance(p, CreateCase):
        case_service.create_case(
            session, actor=actor, ref=ref, now=now, new=new_case_from(cmd, now, clock_offset_s)
        )
        return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
    if isinstance(p, TransitionCase):
        if p.action is Action.RAISE_DISPUTE:  # the one path both REST endpoints take too
            dispute_service.raise_dispute(
                session,
                actor=actor,
                case_id=case_id,
                command=dispute_service.RaiseDispute(
                    reason=p.reason,
                    legal_basis=p.legal_basis,
                    claimed_responsible=p.claimed_responsible or None,
                    note=p.note,
                    photos=tuple(p.photos),
                    where=_point(p.where),
                    device_at=cmd.created_at.isoformat(),
                ),
                ref=ref,
                now=now,
            )
            return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
        extra: dict[str, Any] = {"device_at": cmd.created_at.isoformat()}
        inp = case_service.ActionInput(
            reason=p.reason,
            note=p.note,
            where=_point(p.where),
            photos=tuple(p.photos),
            duplicate_of=p.duplicate_of,
            legal_basis=p.legal_basis,
            lead_department=p.lead_department,
            assisting=tuple(AssistingDuty(a.department_code, a.duty) for a in p.assisting)
            if p.assisting is not None
            else None,
            override_reason=p.override_reason,
            extra=extra,
            device_at=cmd.created_at,  # on the spot: sync/clock_rules.assignment_time
            device_clock_offset_s=clock_offset_s,
        )
        case_service.apply_action(
            session, actor=actor, case_id=case_id, action=p.action, inp=inp, ref=ref, now=now
        )
        return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
    if isinstance(p, AddNote):
        case_service.add_note(
            session,
            actor=actor,
            case_id=case_id,
            note=p.note,
            photos=list(p.photos),
            where=_point(p.where),
            now=now,
        )
        return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
    if isinstance(p, EditCase):
        _, conflicts = case_service.edit_case(
            session, actor=actor, case_id=case_id, edits=p.fields.edits(), ref=ref, now=now
        )
        if conflicts:
            return CommandResult(
                id=cmd.id,
                status=ResultStatus.CONFLICT,
                case_id=case_id,
                code="edit_conflict",
                reason="其他人已修改，保留了服务器上的值 / changed meanwhile by someone else: "
                "the server's value was kept",
                detail={
                    "conflicts": [
                        {"field": c.field, "yours": c.yours, "server": c.server} for c in conflicts
                    ]
                },
            )
        return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
    if isinstance(p, ReportAssistTask):  # the same use case as REST's …/report
        assisting.report_task(
            session,
            actor=actor,
            case_id=case_id,
            department=p.department,
            note=p.note,
            photos=list(p.photos),
            where=_point(p.where),
            now=now,
        )
        return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
    if isinstance(p, RateAssistTask):  # the same use case as REST's …/rate
        assisting.rate_task(
            session,
            actor=actor,
            case_id=case_id,
            department=p.department,
            rating=p.rating,
            comment=p.comment,
            now=now,
        )
        return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)
    link = link_photo or photo_service.link_photo
    link(session=session, actor=actor, sha256=p.sha256, case_id=case_id, now=now)
    return CommandResult(id=cmd.id, status=ResultStatus.APPLIED, case_id=case_id)


def _rejected(cmd: Command, error: DomainError) -> CommandResult:
    detail = error.as_dict()
    return CommandResult(
        id=cmd.id,
        status=ResultStatus.REJECTED,
        code=error.code,
        reason=error.reason,
        case_id=case_id_of(cmd.payload),
        detail=detail,
    )


def _row(device_id: str, cmd: Command, result: CommandResult, now: datetime) -> dict[str, Any]:
    """The device_command_result row, as a plain dict for one bulk INSERT."""
    return {
        "device_id": device_id,
        "command_id": cmd.id,
        "command_type": cmd.type.value,
        "status": result.status.value,
        "code": result.code,
        "reason": result.reason,
        "case_id": result.case_id,
        "detail": result.detail,
        # as sent; a time without a zone (its command refused for it) is kept read as UTC
        "device_created_at": cmd.created_at
        if cmd.created_at.tzinfo is not None
        else cmd.created_at.replace(tzinfo=UTC),
        "content_hash": command_hash(cmd.type.value, cmd.payload),
        "applied_at": now,
    }


def result_of(row: CommandResultRow) -> CommandResult:
    return CommandResult(
        id=row.command_id,
        status=ResultStatus(row.status),
        code=row.code,
        reason=row.reason,
        case_id=row.case_id,
        detail=row.detail,
    )


def push(
    session: Session,
    *,
    device_id: str,
    actor: Actor,
    commands: list[Command],
    ref: ReferenceSnapshot,
    now: datetime,
    link_photo: Callable[..., None] | None = None,
    device_time: datetime | None = None,
    known_epoch: str | None = None,
) -> PushResponse:
    """Apply a batch in one transaction (the caller commits). Ids already applied are answered
    with their stored result — or ``renumber`` when the command sent under that id is not the
    one applied (another content hash), which stops the batch; a gap stops the batch; the
    device's last applied id moves in the same transaction as the effects. A phone that knows
    another epoch (the database was restored since) gets nothing applied: it resynchronises.

    Lock order (PostgreSQL): the device row, then the change counter, then cases — the order
    REST actions keep too (counter, then case: ``cases.lock_case``)."""
    # The device row first: two pushes of one device run one after the other.
    device = sync_data.get_device(session, device_id, for_update=True)
    if device is None:
        raise NotFound("设备不存在 / device not found")
    epoch = sync_data.epoch(session)
    if known_epoch is not None and known_epoch != epoch:
        return PushResponse(last_applied=device.last_applied, results=[], epoch=epoch)
    if device_time is not None:
        note_device_clock(session, device, device_time, now)
    offset = device.clock_offset_s
    # Take this transaction's change number before any savepoint, so a rolled-back command
    # can never leave two transactions with one number.
    change_seq = case_service.reserve_change_seq(session)
    commands = sorted(commands, key=lambda c: c.id)
    done = {
        r.command_id: r
        for r in sync_data.stored_results(
            session, device.id, [c.id for c in commands if c.id <= device.last_applied]
        )
    }
    results: list[CommandResult] = []
    todo: list[Command] = []
    stopped: int | None = None
    expected = device.last_applied + 1
    reused = False
    for cmd in commands:
        if cmd.id < expected:
            row = done.get(cmd.id)
            if row is None:
                continue
            if _id_reused(cmd, row):
                reused = True
                results.append(_renumber(cmd, device.last_applied))
            else:
                results.append(result_of(row))
            continue
        if reused:  # the phone renumbers these after last_applied and sends them again
            break
        if cmd.id != expected:
            stopped = cmd.id
            break
        todo.append(cmd)
        expected += 1
    fresh: dict[int, CommandResult] = {}
    i = 0
    while i < len(todo):
        if todo[i].type == CommandType.CREATE_CASE:
            j = i
            while j < len(todo) and todo[j].type == CommandType.CREATE_CASE:
                j += 1
            decided = batch_create.create_many(
                session,
                todo[i:j],
                actor=actor,
                ref=ref,
                now=now,
                change_seq=change_seq,
                clock_offset_s=offset,
            )
            fresh.update(decided.results)
            for cmd in decided.left_over:
                fresh[cmd.id] = _apply_one(session, cmd, actor, ref, now, link_photo, offset)
            i = j
        else:
            fresh[todo[i].id] = _apply_one(session, todo[i], actor, ref, now, link_photo, offset)
            i += 1
    if todo:
        sync_data.add_results(session, [_row(device.id, cmd, fresh[cmd.id], now) for cmd in todo])
        device.last_applied = todo[-1].id
        results.extend(fresh[cmd.id] for cmd in todo)
        observe_command_results(session, [fresh[cmd.id] for cmd in todo])
    device.last_seen_at = now
    session.add(device)
    return PushResponse(
        last_applied=device.last_applied, results=results, stopped_at_gap=stopped, epoch=epoch
    )


def _id_reused(cmd: Command, row: CommandResultRow) -> bool:
    """Another command was applied under this id. A command or a row without a hash (an older
    app, a result stored before hashes) is taken as the same command, as before."""
    if cmd.hash is None or row.content_hash is None:
        return False
    return command_hash(cmd.type.value, cmd.payload) != row.content_hash


def _renumber(cmd: Command, last_applied: int) -> CommandResult:
    return CommandResult(
        id=cmd.id,
        status=ResultStatus.RENUMBER,
        code="id_reused",
        reason="该编号已用于另一条命令，手机将重新编号后再发送 / this id was used by another "
        "command: the phone renumbers it after the last applied id and sends it again",
        case_id=case_id_of(cmd.payload),
        detail={"last_applied": last_applied},
    )


def _apply_one(
    session: Session,
    cmd: Command,
    actor: Actor,
    ref: ReferenceSnapshot,
    now: datetime,
    link_photo: Callable[..., None] | None,
    clock_offset_s: float | None = None,
) -> CommandResult:
    """One command in its own savepoint: its effects, or none of them and a stored refusal."""
    savepoint = session.begin_nested()
    try:
        result = _apply(session, cmd, actor, ref, now, link_photo, clock_offset_s)
        session.flush()
        savepoint.commit()
        return result
    except DomainError as error:
        savepoint.rollback()
        _keep_evidence(session, cmd, actor, error, now)
        return _rejected(cmd, error)
    except IntegrityError as error:
        # a uniqueness the rules did not foresee: refuse this command, keep the batch going
        savepoint.rollback()
        return _rejected(
            cmd,
            InvalidInput("payload", f"与已有记录冲突 / clashes with a stored record: {error.orig}"),
        )
    except OperationalError:
        # the database is busy (a lock, a lost connection): not this command's fault — the
        # whole push is answered "try again" and nothing of it is kept
        raise
    except Exception:
        # anything else is a fault the rules did not foresee: this command alone is refused
        # (its savepoint rolled back, the fault logged); the batch and the phone go on
        savepoint.rollback()
        log.exception("sync command %s (%s) failed", cmd.id, cmd.type.value)
        return _rejected(cmd, unexpected_fault())


def _keep_evidence(
    session: Session, cmd: Command, actor: Actor, error: DomainError, now: datetime
) -> None:
    """A refused action's note, photos and place are kept on the case, if its payload was
    well-formed (a payload over the limits keeps nothing)."""
    if cmd.type != CommandType.TRANSITION_CASE:
        return
    try:
        p = decode_payload(cmd.type, cmd.payload)
    except InvalidInput:
        return
    if not isinstance(p, TransitionCase):
        return
    savepoint = session.begin_nested()
    try:
        case_service.keep_rejected_evidence(
            session,
            actor=actor,
            case_id=p.case_id,
            action=p.action.value,
            rejection=error.reason,
            note=p.note,
            photos=list(p.photos),
            where=_point(p.where),
            now=now,
        )
        session.flush()
        savepoint.commit()
    except OperationalError:
        raise
    except Exception:  # keeping the evidence failed: the refusal itself still stands
        savepoint.rollback()


# --- pull ------------------------------------------------------------------------------------


def _encode_cursor(epoch: str, seq: int, case_id: str, reference_stamp: str) -> str:
    return f"{CURSOR_PREFIX}:{epoch}:{seq}:{case_id}:{reference_stamp}"


def _reference_stamp(session: Session) -> str:
    """What the device's copy of the reference data was sent at: the latest list version and
    the working calendar's revision ("3.25"). A change of either sends the reference again."""
    version = boundary_data.latest_version_number(session) or 0
    return f"{version}.{calendar_data.revision(session)}"


def _decode_cursor(cursor: str | None, epoch: str) -> tuple[int, str, str] | None:
    if not cursor:
        return None
    parts = cursor.split(":")
    if len(parts) != 5 or parts[0] != CURSOR_PREFIX or parts[1] != epoch:
        return None
    try:
        return int(parts[2]), parts[3], parts[4]
    except ValueError:
        return None


def case_snapshot(session: Session, case: Case) -> dict[str, Any]:
    return case_snapshots(session, [case])[0]


def case_snapshots(session: Session, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Each case with its events, the events of the whole page fetched with one query."""
    events = cases_data.events_of_cases(session, [c.id for c in cases])
    out = []
    for case in cases:
        data = case.model_dump(mode="json")
        data["events"] = [e.model_dump(mode="json", exclude={"id"}) for e in events[case.id]]
        out.append(data)
    return out


def reference_snapshot(session: Session) -> dict[str, Any]:
    return {
        "departments": [d.model_dump() for d in reference_data.list_departments(session)],
        "towns": [t.model_dump() for t in reference_data.list_town_rows(session)],
        "sites": [s.model_dump() for s in reference_data.list_site_rows(session)],
        "intake_channels": [
            c.model_dump() for c in reference_data.list_intake_channel_rows(session)
        ],
        "boundary_versions": [
            {
                **v.model_dump(mode="json"),
                "entries": [
                    e.model_dump(exclude={"id", "version_number", "area_towns_key"})
                    for e in boundary_data.entry_rows(session, v.number)
                ],
            }
            for v in boundary_data.list_version_rows(session)
        ],
        "work_calendar": encode_calendar(current_calendar(session)),
    }


def pull(
    session: Session,
    *,
    device: Device,
    actor: Actor,
    cursor: str | None,
    results_after: int,
    limit: int,
) -> PullResponse:
    epoch = sync_data.epoch(session)
    decoded = _decode_cursor(cursor, epoch)
    reset = decoded is None
    seq, last_id, known_stamp = decoded if decoded else (0, "", "")
    oversight = actor.role in OVERSIGHT_ROLES
    rows = sync_data.changed_cases(
        session,
        after=(seq, last_id),
        visible_to_department=None if oversight else actor.department,
        reporter_user_id=None if oversight else actor.user_id,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    stamp = _reference_stamp(session)
    reference = reference_snapshot(session) if reset or stamp != known_stamp else None
    since = seq
    if rows:
        seq, last_id = rows[-1].change_seq, rows[-1].id
    # Cases this department was withdrawn from, numbered within this page: (since, seq], or
    # everything after ``since`` on the last page, whose cursor then moves past them.
    withdrawn = (
        []
        if reset or oversight  # a reset replaces the copy; oversight sees every case
        else sync_data.withdrawn_cases(
            session,
            department=actor.department,
            reporter_user_id=actor.user_id,
            after_seq=since,
            upto_seq=seq if more else None,
        )
    )
    if withdrawn and withdrawn[-1][1] > seq:
        seq, last_id = withdrawn[-1][1], ""
    results = sync_data.results_after(session, device.id, results_after, 1000)
    return PullResponse(
        cursor=_encode_cursor(epoch, seq, last_id, stamp),
        reset=reset,
        more=more,
        cases=case_snapshots(session, rows),
        reference=reference,
        last_applied=device.last_applied,
        results=[result_of(r) for r in results],
        gone=sorted({case_id for case_id, _ in withdrawn}),
        epoch=epoch,
    )
