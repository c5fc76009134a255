"""Local writes: every user action becomes a local change plus its numbered outbox command.

The app never talks case-by-case to the server. ``CaseWriter`` writes to the device's
``DeviceStore``: the local copy of the case is updated (so the screens show the action at
once, offline) in the same transaction as the command the sync engine later pushes. The
lifecycle rules (``sync.lifecycle.decide``) run here too, so an action the rules refuse is
refused on the device, with the same reason the server would give.

Photos are files on the device (``PhotoShelf``); each photo's row is written in the same
transaction as the ``AddPhoto`` command that makes it evidence for its case.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from fieldapp.photos import ProcessedPhoto
from sync.assignment import Proposal
from sync.boundary_types import AssistingDuty, Point, TimeLimit
from sync.case_effects import (
    CaseFields,
    Placement,
    apply_action,
    assisting_dicts,
    assisting_of,
    suspensions_in,
)
from sync.case_numbers import case_number
from sync.device_store import DeviceStore
from sync.disputes import coordinated, ruled_responsible
from sync.errors import DomainError, NotFound
from sync.events import (
    ASSIST_TASK_REPORTED,
    ASSISTING_RATED,
    CASE_CREATED,
    EVENT_FOR_ACTION,
    NOTE_ADDED,
    PHOTO_ADDED,
)
from sync.lifecycle import Action, Actor, CaseFacts, Request
from sync.protocol import CommandType
from sync.reference_codec import decode_reference
from sync.vocabulary import CaseStatus, TimeUnit
from sync.workcalendar import EMPTY_CALENDAR, WorkCalendar
from sync.workflow import (
    AssistTaskState,
    assist_tasks,
    check_may_rate,
    check_may_report_assist_task,
)

OVERRIDE_NOTE = "override"


def new_case_id() -> str:
    return str(uuid.uuid4())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _point(p: Point | None) -> dict[str, float] | None:
    return None if p is None else {"lat": p.lat, "lon": p.lon}


@dataclass(frozen=True)
class StoredPhoto:
    """A processed photo kept on the device, waiting to be linked to a case."""

    sha256: str
    path: str
    thumb_path: str
    size: int
    exif_point: tuple[float, float] | None = None


class PhotoShelf:
    """Processed photos as files: ``<sha>.jpg`` and its thumbnail ``<sha>.thumb.jpg``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def keep(self, photo: ProcessedPhoto) -> StoredPhoto:
        path = self.directory / f"{photo.sha256}.jpg"
        thumb = self.directory / f"{photo.sha256}.thumb.jpg"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(photo.jpeg)
            tmp.replace(path)  # never a half-written photo under its final name
        if not thumb.exists():
            thumb.write_bytes(photo.thumbnail)
        return StoredPhoto(photo.sha256, str(path), str(thumb), len(photo.jpeg), photo.exif_point)

    def keep_downloaded(self, sha256: str, data: bytes, *, thumbnail: bytes | None) -> None:
        """A photo another device took, fetched from the server."""
        path = self.directory / f"{sha256}.jpg"
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        if thumbnail is not None:
            (self.directory / f"{sha256}.thumb.jpg").write_bytes(thumbnail)

    def thumbnail(self, sha256: str) -> Path | None:
        thumb = self.directory / f"{sha256}.thumb.jpg"
        if thumb.exists():
            return thumb
        full = self.directory / f"{sha256}.jpg"
        return full if full.exists() else None

    def has(self, sha256: str) -> bool:
        return (self.directory / f"{sha256}.jpg").exists()


def _moment(raw: Any) -> datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def _point_in(raw: dict[str, Any]) -> Point | None:
    lat, lon = raw.get("lat"), raw.get("lon")
    return None if lat is None or lon is None else Point(float(lat), float(lon))


def _after_point(events: Sequence[Any]) -> Point | None:
    """Where the latest report back (its after photos) was made."""
    reported = EVENT_FOR_ACTION[Action.REPORT_BACK]
    for event in reversed(events):
        if isinstance(event, dict) and event.get("kind") == reported:
            return _point_in(event)
    return None


def fields_of(snapshot: dict[str, Any]) -> CaseFields:
    """The fields the lifecycle changes (``sync.case_effects``), from a case snapshot."""
    amount, unit = snapshot.get("time_amount"), snapshot.get("time_unit")
    return CaseFields(
        status=CaseStatus(snapshot["status"]),
        lead_department=snapshot.get("lead_department"),
        assisting=assisting_of(snapshot.get("assisting")),
        handler_user_ids=tuple(str(u) for u in snapshot.get("handler_user_ids") or ()),
        return_count=int(snapshot.get("return_count") or 0),
        rework_count=int(snapshot.get("rework_count") or 0),
        closed_at=_moment(snapshot.get("closed_at")),
        suspended=bool(snapshot.get("suspended", False)),
        disputed=bool(snapshot.get("disputed", False)),
        duplicate_of=snapshot.get("duplicate_of"),
        assigned_at=_moment(snapshot.get("assigned_at")),
        due_at=_moment(snapshot.get("due_at")),
        time_limit=TimeLimit(int(amount), TimeUnit(unit)) if amount is not None and unit else None,
    )


def _put_fields(snapshot: dict[str, Any], fields: CaseFields) -> None:
    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else _iso(moment)

    snapshot.update(
        status=fields.status.value,
        lead_department=fields.lead_department,
        assisting=assisting_dicts(fields.assisting),
        handler_user_ids=list(fields.handler_user_ids),
        return_count=fields.return_count,
        rework_count=fields.rework_count,
        closed_at=iso(fields.closed_at),
        suspended=fields.suspended,
        disputed=fields.disputed,
        duplicate_of=fields.duplicate_of,
        assigned_at=iso(fields.assigned_at),
        due_at=iso(fields.due_at),
        time_amount=fields.time_limit.amount if fields.time_limit else None,
        time_unit=fields.time_limit.unit.value if fields.time_limit else None,
    )


def facts_of(snapshot: dict[str, Any]) -> CaseFacts:
    """What the lifecycle rules need, from a case snapshot (the server's row or a local one):
    the same facts the server's ``case_facts`` gives (rulings and the report back's position
    read from the case's timeline)."""
    assisting = snapshot.get("assisting") or []
    events = [e for e in snapshot.get("events") or () if isinstance(e, dict)]
    return CaseFacts(
        status=CaseStatus(snapshot["status"]),
        first_contact_department=str(snapshot.get("first_contact_department") or ""),
        reporter_user_id=str(snapshot.get("reporter_user_id") or ""),
        lead_department=snapshot.get("lead_department"),
        assisting_departments=frozenset(
            str(a.get("department_code")) for a in assisting if isinstance(a, dict)
        ),
        handler_user_ids=frozenset(snapshot.get("handler_user_ids") or ()),
        suspended=bool(snapshot.get("suspended", False)),
        ruled_responsible=ruled_responsible(events),
        disputed=bool(snapshot.get("disputed", False)),
        point=_point_in(snapshot),
        after_point=_after_point(events),
        coordinated=coordinated(events),
    )


def local_event(
    kind: str,
    actor: Actor,
    now: datetime,
    where: Point | None,
    data: dict[str, Any],
    status_after: str,
    actor_name: str = "",
) -> dict[str, Any]:
    return {
        "kind": kind,
        "at": _iso(now),
        "actor_user_id": actor.user_id,
        "actor_department": actor.department,
        "actor_name": actor_name,
        "lat": where.lat if where else None,
        "lon": where.lon if where else None,
        "data": data,
        "status_after": status_after,
        "local": True,  # not yet confirmed by the server
    }


@dataclass(frozen=True)
class NewCaseInput:
    case_id: str
    category: str
    description: str
    point: Point | None
    town_code: str | None
    site_code: str | None
    recorded_at: datetime
    accuracy_m: float | None = None
    location_source: str = "gps"  # gps | exif | manual | none
    location_reason: str = ""


@dataclass(frozen=True)
class Assignment:
    """What the inspector confirmed (the proposal) or chose instead (an override)."""

    proposal: Proposal
    lead_department: str
    assisting: tuple[AssistingDuty, ...]
    override_reason: str = ""

    @property
    def overridden(self) -> bool:
        return (
            self.lead_department != self.proposal.lead_department
            or self.assisting != self.proposal.assisting
        )


class CaseWriter:
    """Writes one user's actions into the device store (each with its outbox command)."""

    def __init__(self, store: DeviceStore, actor: Actor, actor_name: str = "") -> None:
        self.store = store
        self.actor = actor
        self.actor_name = actor_name

    # -- helpers ------------------------------------------------------------------------
    def _calendar(self) -> WorkCalendar:
        """The working calendar of the reference data this device last pulled (weekends only
        when it has none yet: the deadline then says so)."""
        raw = self.store.get("reference")
        try:
            return decode_reference(json.loads(raw) if raw else None).calendar
        except (DomainError, ValueError):
            return EMPTY_CALENDAR

    def _save(self, session: Session, snapshot: dict[str, Any]) -> None:
        self.store.put_local_case(session, snapshot, from_server=False)

    def _photo_rows(self, session: Session, case_id: str, photos: Sequence[StoredPhoto]) -> None:
        for photo in photos:
            self.store.add_photo(
                session, sha256=photo.sha256, path=photo.path, size=photo.size, case_id=case_id
            )

    def _link_photos(
        self, case_id: str, photos: Sequence[StoredPhoto], now: datetime, *, event: bool
    ) -> None:
        """One ``AddPhoto`` per photo (it makes the photo evidence the case's parties may see),
        written with the photo's row. ``event``: also show it in the local timeline."""
        for photo in photos:

            def change(s: Session, photo: StoredPhoto = photo) -> None:
                self._photo_rows(s, case_id, [photo])
                if event:
                    snap = self.store.case(case_id)
                    if snap is not None:
                        snap.setdefault("events", []).append(
                            local_event(
                                PHOTO_ADDED,
                                self.actor,
                                now,
                                None,
                                {"sha256": photo.sha256},
                                str(snap["status"]),
                                self.actor_name,
                            )
                        )
                        self._save(s, snap)

            self.store.enqueue(
                CommandType.ADD_PHOTO,
                {"case_id": case_id, "sha256": photo.sha256},
                now=now,
                local_change=change,
            )

    # -- actions ------------------------------------------------------------------------
    def create_case(
        self, new: NewCaseInput, photos: Sequence[StoredPhoto], *, now: datetime
    ) -> dict[str, Any]:
        description = new.description.strip()
        if new.location_reason.strip():
            description += f"（定位说明 / location note: {new.location_reason.strip()}）"
        payload: dict[str, Any] = {
            "case_id": new.case_id,
            "category": new.category,
            "description": description,
            "source": "inspection",
            "location": _point(new.point),
            "town_code": new.town_code,
            "site_code": new.site_code,
            "first_contact_department": self.actor.department,  # 首问责任: who logs it owns it
            "recorded_at": new.recorded_at.isoformat(),
            # evidence of how the point was taken (the server keeps the command as sent)
            "location_accuracy_m": new.accuracy_m,
            "location_source": new.location_source,
            "location_reason": new.location_reason.strip() or None,
        }
        snapshot: dict[str, Any] = {
            "id": new.case_id,
            "number": case_number(new.case_id, new.recorded_at),
            "status": CaseStatus.DISCOVERED.value,
            "category": new.category,
            "description": description,
            "source": "inspection",
            "lat": new.point.lat if new.point else None,
            "lon": new.point.lon if new.point else None,
            "town_code": new.town_code,
            "site_code": new.site_code,
            "first_contact_department": self.actor.department,
            "reporter_user_id": self.actor.user_id,
            "lead_department": None,
            "assisting": [],
            "handler_user_ids": [],
            "suspended": False,
            "disputed": False,
            "due_at": None,
            "created_at": _iso(new.recorded_at),
            "updated_at": _iso(now),
            "events": [
                local_event(
                    CASE_CREATED,
                    self.actor,
                    now,
                    new.point,
                    {
                        "category": new.category,
                        "description": description,
                        "photos": [p.sha256 for p in photos],
                        "accuracy_m": new.accuracy_m,
                        "location_source": new.location_source,
                    },
                    CaseStatus.DISCOVERED.value,
                    self.actor_name,
                )
            ],
        }
        self.store.enqueue(
            CommandType.CREATE_CASE,
            payload,
            now=now,
            local_change=lambda s: self._save(s, snapshot),
        )
        self._link_photos(new.case_id, photos, now, event=False)
        if photos:
            # CreateCase carries no photos: a note with them makes them part of the timeline
            # every party sees (the screens fold it into the recording).
            self.store.enqueue(
                CommandType.ADD_NOTE,
                {
                    "case_id": new.case_id,
                    "note": "",
                    "photos": [p.sha256 for p in photos],
                    "where": _point(new.point),
                },
                now=now,
            )
        return snapshot

    def transition(
        self,
        case_id: str,
        action: Action,
        *,
        now: datetime,
        reason: str = "",
        note: str = "",
        photos: Sequence[StoredPhoto] = (),
        where: Point | None = None,
        assignment: Assignment | None = None,
        legal_basis: str = "",
        claimed_responsible: str | None = None,
        duplicate_of: str | None = None,
    ) -> dict[str, Any]:
        """Apply ``action`` locally (refused with the rule's typed error, as the server would)
        and queue its ``TransitionCase`` command; photos are linked to the case too.
        ``legal_basis``: a dispute's (raise_dispute refuses without one);
        ``claimed_responsible``: the department the dispute says is responsible (optional);
        ``duplicate_of``: merge only, the case this one duplicates. The case's new fields come
        from ``sync.case_effects.apply_action``, the function the server applies too."""
        snapshot = self.store.case(case_id)
        if snapshot is None:
            raise KeyError(case_id)
        placement = None
        if action is Action.ASSIGN and assignment is not None:
            placement = Placement(
                lead_department=assignment.lead_department,
                assisting=assignment.assisting,
                due_at=assignment.proposal.deadline.due_at,
                time_limit=assignment.proposal.time_limit,
            )
        outcome = apply_action(
            facts_of(snapshot),
            fields_of(snapshot),
            action,
            self.actor,
            request=Request(
                reason=reason,
                legal_basis=legal_basis,
                duplicate_of=duplicate_of,
                where=where,
            ),
            now=now,
            calendar=self._calendar(),
            placement=placement,
            suspensions=suspensions_in(snapshot.get("events") or ())
            if action is Action.RESUME
            else (),
        )
        new_status = outcome.fields.status
        payload: dict[str, Any] = {
            "case_id": case_id,
            "action": action.value,
            "reason": reason.strip(),
            "note": note.strip(),
            "photos": [p.sha256 for p in photos],
            "where": _point(where),
        }
        data: dict[str, Any] = {
            "from": snapshot["status"],
            "reason": reason.strip() or None,
            "note": note.strip() or None,
            "photos": [p.sha256 for p in photos],
            **outcome.data,
        }
        if action is Action.MERGE:
            payload["duplicate_of"] = duplicate_of
        if action is Action.ASSIGN and assignment is not None:
            proposal = assignment.proposal
            if assignment.overridden:
                payload["lead_department"] = assignment.lead_department
                payload["assisting"] = assisting_dicts(assignment.assisting)
                payload["override_reason"] = assignment.override_reason.strip()
            snapshot.update(
                matter=proposal.matter,
                legal_basis=proposal.legal_basis,
                list_version=proposal.list_version,
                deadline_note=proposal.deadline.note,
            )
            data.update(
                list_version=proposal.list_version,
                legal_basis=proposal.legal_basis,
                override_reason=assignment.override_reason.strip() or None,
            )
        elif action is Action.RAISE_DISPUTE:
            payload["legal_basis"] = data["legal_basis"]
            if claimed_responsible:
                payload["claimed_responsible"] = data["claimed_responsible"] = claimed_responsible
        _put_fields(snapshot, outcome.fields)
        if action is Action.RETURN:
            snapshot["deadline_note"] = None  # no deadline left to explain
        self._queue_change(
            snapshot,
            EVENT_FOR_ACTION[action],
            data,
            CommandType.TRANSITION_CASE,
            payload,
            where=where,
            now=now,
            status=new_status.value,
        )
        self._link_photos(case_id, photos, now, event=False)
        return snapshot

    def add_note(
        self,
        case_id: str,
        *,
        note: str,
        photos: Sequence[StoredPhoto] = (),
        where: Point | None = None,
        now: datetime,
    ) -> dict[str, Any]:
        snapshot = self.store.case(case_id)
        if snapshot is None:
            raise KeyError(case_id)
        payload = {
            "case_id": case_id,
            "note": note.strip(),
            "photos": [p.sha256 for p in photos],
            "where": _point(where),
        }
        snapshot["updated_at"] = _iso(now)
        snapshot.setdefault("events", []).append(
            local_event(
                NOTE_ADDED,
                self.actor,
                now,
                where,
                {"note": note.strip() or None, "photos": [p.sha256 for p in photos]},
                str(snapshot["status"]),
                self.actor_name,
            )
        )
        self.store.enqueue(
            CommandType.ADD_NOTE, payload, now=now, local_change=lambda s: self._save(s, snapshot)
        )
        self._link_photos(case_id, photos, now, event=False)
        return snapshot

    # -- lead and assisting work (协办反馈, 协办评价) ------------------------------------------
    def _task(self, snapshot: dict[str, Any], department: str) -> AssistTaskState | None:
        tasks = assist_tasks(
            [e for e in snapshot.get("events") or () if isinstance(e, dict)],
            [(d.department_code, d.duty) for d in assisting_of(snapshot.get("assisting"))],
        )
        return next((t for t in tasks if t.department == department), None)

    def report_assist_task(
        self,
        case_id: str,
        *,
        note: str,
        photos: Sequence[StoredPhoto] = (),
        where: Point | None = None,
        now: datetime,
    ) -> dict[str, Any]:
        """协办反馈: this user's department reports its part (refused offline by the rule the
        server applies, ``sync.workflow.check_may_report_assist_task``)."""
        snapshot = self.store.case(case_id)
        if snapshot is None:
            raise KeyError(case_id)
        department = self.actor.department
        check_may_report_assist_task(
            self.actor,
            department=department,
            status=CaseStatus(snapshot["status"]),
            task_open=self._task(snapshot, department) is not None,
            note=note,
            photos=[p.sha256 for p in photos],
        )
        shas = [p.sha256 for p in photos]
        payload = {
            "case_id": case_id,
            "department": department,
            "note": note.strip(),
            "photos": shas,
            "where": _point(where),
        }
        self._queue_change(
            snapshot,
            ASSIST_TASK_REPORTED,
            {"department": department, "note": note.strip() or None, "photos": shas},
            CommandType.REPORT_ASSIST_TASK,
            payload,
            where=where,
            now=now,
        )
        self._link_photos(case_id, photos, now, event=False)
        return snapshot

    def rate_assist_task(
        self, case_id: str, *, department: str, rating: int, comment: str, now: datetime
    ) -> dict[str, Any]:
        """协办评价: the lead rates ``department``'s work 1–5 (``sync.workflow.check_may_rate``
        and ``check_rating``, offline as on the server)."""
        snapshot = self.store.case(case_id)
        if snapshot is None:
            raise KeyError(case_id)
        check_may_rate(self.actor, lead_department=snapshot.get("lead_department"))
        task = self._task(snapshot, department)
        if task is None:
            raise NotFound(
                f"{department} 不是本案协办部门 / {department} is not assisting on this case"
            )
        task.rating_refusal(rating=rating, comment=comment, now=now)
        self._queue_change(
            snapshot,
            ASSISTING_RATED,
            {"department": department, "rating": rating, "comment": comment.strip() or None},
            CommandType.RATE_ASSIST_TASK,
            {
                "case_id": case_id,
                "department": department,
                "rating": rating,
                "comment": comment.strip(),
            },
            where=None,
            now=now,
        )
        return snapshot

    def _queue_change(
        self,
        snapshot: dict[str, Any],
        kind: str,
        data: dict[str, Any],
        command: CommandType,
        payload: dict[str, Any],
        *,
        where: Point | None,
        now: datetime,
        status: str | None = None,
    ) -> None:
        """Show the change on this phone at once (a local event on the case) and queue its
        command; both are written in one transaction of the store."""
        snapshot["updated_at"] = _iso(now)
        snapshot.setdefault("events", []).append(
            local_event(
                kind,
                self.actor,
                now,
                where,
                data,
                status if status is not None else str(snapshot["status"]),
                self.actor_name,
            )
        )
        self.store.enqueue(
            command, payload, now=now, local_change=lambda s: self._save(s, snapshot)
        )
