"""Appending a workflow event to a case, and sending a notification, in the caller's
transaction. Every change bumps the case's version and change number so devices pull it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.data import cases as cases_data
from server.data import reference as reference_data
from server.models import Case, CaseEvent, Notification
from server.services.cases import stamp_change
from sync.boundary_types import Point
from sync.lifecycle import Actor
from sync.vocabulary import Role

SYSTEM = Actor(user_id="system", role=Role.SUPERVISOR, department="system")


def record_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor: Actor,
    now: datetime,
    data: dict[str, Any],
    where: Point | None = None,
) -> CaseEvent:
    case.updated_at = now
    case.version += 1
    stamp_change(session, case)
    session.add(case)
    event = CaseEvent(
        case_id=case.id,
        seq=cases_data.next_event_seq(session, case.id),
        kind=kind,
        actor_user_id=actor.user_id,
        actor_department=actor.department,
        at=now,
        lat=where.lat if where else None,
        lon=where.lon if where else None,
        list_version=case.list_version,
        status_after=case.status,
        data=data,
    )
    cases_data.add_event(session, event)  # flushed with the caller's other changes
    return event


def notify(
    session: Session,
    recipients: list[str] | set[str] | tuple[str, ...],
    *,
    kind: str,
    text: str,
    now: datetime,
    case_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """``recipients``: department codes, or ``role:<role>`` for everyone with that role."""
    for recipient in sorted(set(recipients)):
        session.add(
            Notification(
                recipient=recipient,
                kind=kind,
                case_id=case_id,
                text=text,
                data=data or {},
                created_at=now,
            )
        )


def department_label(session: Session, code: str | None) -> str:
    """A department as people name it in a notification (its short name; the code if unknown)."""
    if not code:
        return "—"
    found = reference_data.get_department(session, code)
    return found.short_name or found.name if found is not None else code


def role_recipient(role: Role) -> str:
    return f"role:{role.value}"


def may_read_notification(recipient: str, actor: Actor) -> bool:
    """A notification is for a department or a role: its members read it, nobody else."""
    return recipient in (actor.department, role_recipient(actor.role))
